"""StoryBot's settings: `STORYBOT_*` environment variables and a `.env` file, read once at start-up."""

from __future__ import annotations

from config.settings import Settings, SettingsError, load_settings

__all__ = ["Settings", "SettingsError", "load_settings"]
