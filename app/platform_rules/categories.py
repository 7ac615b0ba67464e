"""The part categories the platform governs: each may carry price bounds in the pricing
rules, and every product is listed in one."""

from enum import StrEnum


class ProductCategory(StrEnum):
    DISPLAY = "display"
    BATTERY = "battery"
    CHARGING_PORT = "charging_port"
    CAMERA = "camera"
    BACK_PANEL = "back_panel"
    SPEAKER = "speaker"
    MICROPHONE = "microphone"
    MOTHERBOARD = "motherboard"
    HOUSING = "housing"
    TOOLS = "tools"
    OTHER = "other"
