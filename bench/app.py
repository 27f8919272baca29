"""The shop as gunicorn serves it in production, plus one bare route (no database, no template) that the
benchmarks divide by: `gunicorn bench.app:app`. Only for bench/; the shop itself never has this route."""

from shop import create_app

app = create_app()


@app.get("/bench/bare")
def bare() -> str:
    return "ok"
