from fastapi import APIRouter

from app.core.errors import responses

router = APIRouter(tags=["Admin"], responses=responses(401, 403))

from app.admin.console_routes import router as console_router  # noqa: E402

router.include_router(console_router)
