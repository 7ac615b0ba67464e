from fastapi import APIRouter

from app.core.errors import responses

router = APIRouter(tags=["Admin"], responses=responses(401, 403))
