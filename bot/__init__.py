"""StoryBot on Discord: the story engine behind slash commands, mentions and an admin reindex."""
