"""Sub-commands of ``python -m bot``; see ``bot.cli``."""
