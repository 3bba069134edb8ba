"""Discord layer of Cloud Engine: the bot, its views, renderers and Discord-limit helpers."""
