"""`python -m bot`: run StoryBot on Discord (the Procfile's worker)."""

import sys

from bot.app import main

sys.exit(main())
