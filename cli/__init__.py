"""The `storybot` command line: build the index, ask questions, run the bot."""
