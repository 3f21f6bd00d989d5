"""The build's one step beyond setup.cfg: the Thai catalogue, compiled into the wheel.

Compiled catalogues (``*.mo``) are built, never committed: ``make`` compiles
them for a checkout, and this does it for a wheel, so an installed accredit
speaks Thai too.
"""

from pathlib import Path

from babel.messages.mofile import write_mo
from babel.messages.pofile import read_po
from setuptools import setup
from setuptools.command.build_py import build_py


class BuildWithCatalogues(build_py):
    def run(self) -> None:
        super().run()
        for source in Path("registry/translations").glob("*/LC_MESSAGES/*.po"):
            target = Path(self.build_lib) / source.with_suffix(".mo")
            target.parent.mkdir(parents=True, exist_ok=True)
            with source.open("rb") as po, target.open("wb") as mo:
                write_mo(mo, read_po(po))


setup(cmdclass={"build_py": BuildWithCatalogues})
