"""Build-time training: the commands that rebuild the shipped model files.

These need the ``train`` extra (``pip install -e '.[train]'``; the embedding distillation also
needs ``pip install torch==2.13.0``). Nothing here runs when the bot serves or answers.
"""
