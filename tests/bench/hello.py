"""The baseline for the page benchmark: a bare Flask hello-world app."""

from flask import Flask

app = Flask(__name__)


@app.get("/")
def hello() -> str:
    return "Hello, World!"
