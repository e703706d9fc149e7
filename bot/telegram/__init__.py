"""The Telegram channel: families chat in private, counselors work tickets in forum topics."""
