from pydantic import EmailStr, Field, field_validator

from app.core.schemas import APIModel
from app.users.schemas import UserRead


class LoginIn(APIModel):
    email: EmailStr
    password: str = Field(min_length=1, max_length=128)

    @field_validator("email")
    @classmethod
    def lower(cls, value: str) -> str:
        return value.strip().lower()


class RefreshIn(APIModel):
    refresh_token: str = Field(min_length=20, max_length=200)


class TokenPair(APIModel):
    access_token: str
    refresh_token: str
    token_type: str = "bearer"
    expires_in: int = Field(description="Access token lifetime in seconds")
    user: UserRead


class SignupOut(APIModel):
    user: UserRead
