"""Settings sections of the real-time half: Socket.IO events, chat, media and calls;
`app/core/config.py` composes them into `Settings`."""

from pydantic import Field, SecretStr

from app.core.config_sections import Section

DEFAULT_TURN_SECRET = "dev-only-turn-shared-secret"  # dev/test only: published


class RealtimeSettings(Section):
    """Socket.IO: per-connection limits on client events."""

    event_limit: int = Field(
        default=20, ge=1, validation_alias="SOCKET_EVENT_LIMIT",
        description="Client events a connection may send per SOCKET_EVENT_WINDOW_SECONDS "
        "(more are refused in the ack; off when RATE_LIMITS_ENABLED is false)",
    )
    event_window_seconds: float = Field(
        default=10, gt=0, validation_alias="SOCKET_EVENT_WINDOW_SECONDS",
        description="The window of SOCKET_EVENT_LIMIT",
    )
    max_event_bytes: int = Field(
        default=64 * 1024, ge=1024, validation_alias="SOCKET_MAX_EVENT_BYTES",
        description="Largest client event payload (JSON bytes) a handler accepts; larger ones "
        "are refused in the ack (Engine.IO's own buffer is 16× this, so the socket stays up)",
    )


class ChatSettings(Section):
    close_after_days: int = Field(
        default=7, ge=1, validation_alias="CHAT_CLOSE_AFTER_DAYS",
        description="A job's chat closes by itself this many days after the job completes",
    )


class MediaSettings(Section):
    max_image_bytes: int = Field(
        default=10 * 1024 * 1024, ge=1024, validation_alias="MEDIA_MAX_IMAGE_BYTES",
        description="Largest image upload (JPEG, PNG, WebP); larger is 413",
    )
    max_video_bytes: int = Field(
        default=50 * 1024 * 1024, ge=1024, validation_alias="MEDIA_MAX_VIDEO_BYTES",
        description="Largest video upload (MP4, WebM); larger is 413, cut off while streaming",
    )


class CallSettings(Section):
    ring_timeout_seconds: int = Field(
        default=45, ge=5, validation_alias="CALL_RING_TIMEOUT_SECONDS",
        description="A call not answered within this is `missed`",
    )
    stun_urls: list[str] = Field(
        default_factory=lambda: ["stun:stun.l.google.com:19302"], validation_alias="STUN_URLS",
        description="JSON list of STUN server URLs handed to clients",
    )
    turn_urls: list[str] = Field(
        default_factory=list, validation_alias="TURN_URLS",
        description='JSON list of TURN server URLs (coturn, e.g. ["turn:turn.example.com:3478"])',
    )
    turn_shared_secret: SecretStr = Field(
        default=SecretStr(DEFAULT_TURN_SECRET), validation_alias="TURN_SHARED_SECRET",
        description="coturn's static-auth-secret: TURN credentials are HMAC-SHA1 of "
        "`expiry:userId` under it (the TURN REST scheme)",
    )
    turn_credential_ttl_seconds: int = Field(
        default=3600, ge=60, validation_alias="TURN_CREDENTIAL_TTL_SECONDS",
        description="How long a TURN credential handed out by /api/calls/ice-servers works",
    )
