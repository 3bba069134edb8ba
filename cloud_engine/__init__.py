"""Cloud Engine: the decision-making core of the Cloud Engine ChatOps bot.

Nothing in this package imports discord; the bot and the CLI are thin clients of it.
"""

__all__ = ["__version__"]
__version__ = "0.1.0"
