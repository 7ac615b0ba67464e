"""The README's generated tables match the code (run `python -m app.docs` to refresh)."""

from pathlib import Path

from app.docs import rendered_readme

README = Path(__file__).resolve().parent.parent / "README.md"


def test_readme_tables_match_the_routes_and_settings(app):
    readme = README.read_text()
    assert rendered_readme(readme, app.fastapi) == readme, "run: python -m app.docs"


def test_readme_documents_the_two_commands():
    readme = README.read_text()
    assert "make run" in readme and "make test" in readme
