"""A question-answering bot for the Home Office child-safety hackathon and its measures.

The package keeps a pure, Slack-free core (``bot.core``) that loads the curated knowledge
and routes questions to cited replies; the Slack, storage and deployment layers sit on top.
"""

__version__ = "0.1.0"
