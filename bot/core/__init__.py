"""The pure core: knowledge loading, normalisation, routing, the reply model, text rendering.

Nothing here imports Slack, touches the network or runs asynchronously.
"""
