"""The Channels tutorial chat (part 3, asynchronous), the baseline of ``bench/chat_e2e.py``."""
