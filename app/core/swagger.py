"""Swagger UI served by the app itself, from the `fastapi-swagger` package's copy of the
Swagger UI distribution: the docs work with no internet access and load nothing from a CDN."""

from importlib import resources

from fastapi import FastAPI, Request
from fastapi.openapi.docs import get_swagger_ui_html
from fastapi.responses import HTMLResponse
from fastapi.staticfiles import StaticFiles

ASSETS = resources.files("fastapi_swagger") / "resources"
ASSETS_PATH = "/docs-assets"


def install_swagger_ui(app: FastAPI, docs_path: str = "/docs") -> None:
    """`docs_path` (build the app with `docs_url=None, redoc_url=None`) and its assets."""
    app.mount(ASSETS_PATH, StaticFiles(directory=str(ASSETS)), name="swagger-assets")

    async def swagger_ui(request: Request) -> HTMLResponse:
        root_path = request.scope.get("root_path", "").rstrip("/")
        return get_swagger_ui_html(
            openapi_url=f"{root_path}{app.openapi_url}",
            title=f"{app.title} — Swagger UI",
            swagger_js_url=f"{root_path}{ASSETS_PATH}/swagger-ui-bundle.js",
            swagger_css_url=f"{root_path}{ASSETS_PATH}/swagger-ui.css",
            swagger_favicon_url=f"{root_path}{ASSETS_PATH}/favicon-32x32.png",
            swagger_ui_parameters={"persistAuthorization": True},
        )

    app.add_api_route(docs_path, swagger_ui, methods=["GET"], include_in_schema=False)
