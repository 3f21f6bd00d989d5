"""The exports as gunicorn serves them: whole files, their length, a strong ETag, one build."""

from __future__ import annotations

import threading
from urllib.error import HTTPError
from urllib.request import Request, urlopen

from .test_browser import server  # noqa: F401  (the running register, shared set-up)


def test_two_workers_serve_one_whole_file_per_version(server):  # noqa: F811
    base, folder = server["base"], server["folder"]
    answers: list[tuple[int, str, int, int]] = []

    def fetch() -> None:
        with urlopen(f"{base}/exports/registry.csv", timeout=60) as response:
            body = response.read()
            answers.append(
                (
                    response.status,
                    response.headers["ETag"],
                    int(response.headers["Content-Length"]),
                    len(body),
                )
            )

    threads = [threading.Thread(target=fetch) for _ in range(8)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join(90)
    assert len(answers) == 8
    assert {a[0] for a in answers} == {200}
    assert len({a[1] for a in answers}) == 1  # the same bytes for every client
    assert all(length == size > 0 for _, _, length, size in answers)
    etag = answers[0][1]
    assert etag.startswith('"') and not etag.startswith("W/")
    built = list((folder / "exports").glob("registry-*.csv"))
    assert len(built) == 1  # one build, whichever worker asked first
    try:
        urlopen(Request(f"{base}/exports/registry.csv", headers={"If-None-Match": etag}))
        raise AssertionError("expected 304")
    except HTTPError as exc:
        assert exc.code == 304
