"""Tests of index.cleaning: each rule on invented pages, then `clean` on the scraped articles."""

from __future__ import annotations

from pathlib import Path

import pytest

from index.articles import split_front_matter
from index.cleaning import (
    RULES,
    Rule,
    clean,
    collapse_blank_lines,
    drop_comments,
    drop_counters,
    drop_label_runs,
    drop_leading_labels,
    drop_media_prompts,
    drop_newsletter_prompts,
    drop_point_bylines,
    drop_relative_timestamps,
    drop_share_bars,
    drop_shop_blocks,
    normalise_spaces,
    split_leading_date,
)

ARTICLES = Path(__file__).resolve().parent.parent / "data" / "articles"
SCRAPED = ARTICLES / "000_c48745c27fb190c3.txt"

# What an article is made of, on a topic far from the stored story: a headline, prose, a quote,
# a short subheading between blank lines and a numbered heading. Every rule must keep all of it.
ARTICLE = [
    "Harbour ferries will sail every hour from April",
    "",
    "The harbour authority approved the new ferry timetable on Monday after a long debate.",
    "",
    '"We will run boats every hour, even in the middle of winter," the director said.',
    "",
    "What changes",
    "",
    "1. She admires the new captain.",
    "",
    "The council voted in favour.",
    "Fares stay at $4, and children travel free until the end of the year.",
]


def _body(path: Path) -> str:
    return split_front_matter(path.read_text(encoding="utf-8"))[1]


def _prose_lines(text: str) -> list[str]:
    return [" ".join(line.split()) for line in text.splitlines() if line.strip()]


@pytest.fixture(scope="module")
def scraped() -> str:
    return clean(_body(SCRAPED))


# --- every rule -------------------------------------------------------------------------------


@pytest.mark.parametrize("rule", RULES, ids=lambda rule: rule.__name__)
def test_every_rule_keeps_a_plain_article_as_it_is(rule: Rule) -> None:
    assert rule(list(ARTICLE)) == ARTICLE


@pytest.mark.parametrize("rule", RULES, ids=lambda rule: rule.__name__)
def test_every_rule_accepts_no_lines(rule: Rule) -> None:
    assert rule([]) == []


# --- drop_counters ----------------------------------------------------------------------------


@pytest.mark.parametrize("counter", ["215", "60", "$25", "€1,299.99", "£3.50", "₩10,000", "12k", "78%", "-3", "+1.5"])
def test_a_line_that_is_only_a_number_or_a_price_is_dropped(counter: str) -> None:
    assert drop_counters(["The ferry left on time.", counter, "It arrived early."]) == [
        "The ferry left on time.",
        "It arrived early.",
    ]


def test_a_vote_tally_is_dropped() -> None:
    assert drop_counters(["34 (+35 / -1)", "  29 (+30 / -1)  "]) == []


@pytest.mark.parametrize(
    "line",
    [
        "Tickets cost $25 at the door.",
        "2 new ferries were added to the fleet.",
        "1. She admires the new captain.",
        "Chapter 2",
        "",
    ],
)
def test_lines_with_words_beside_their_numbers_are_kept(line: str) -> None:
    assert drop_counters([line]) == [line]


# --- drop_point_bylines -----------------------------------------------------------------------


@pytest.mark.parametrize(
    "byline",
    [
        "Posted by HarbourWatch98,112 pts Monday, March 4, 2024",
        "Posted by Jane Doe 1,204 pts Friday, May 3, 2024",
        "posted by quarry_news 7 pts yesterday",
        "Rook_Lover3,210 pts Sunday, May 5, 2024",
    ],
)
def test_a_byline_that_gives_the_posters_points_is_dropped(byline: str) -> None:
    assert drop_point_bylines(["Chess club wins the county cup", byline, "The final lasted six hours."]) == [
        "Chess club wins the county cup",
        "The final lasted six hours.",
    ]


@pytest.mark.parametrize(
    "line",
    [
        "She finished with 31 pts and 12 rebounds, her best game of the season.",
        "He had 40 pts.",
        "40 pts in one night is a club record, the coach said.",
        "Posted notices warned swimmers about the jellyfish.",
        "By Jane Doe, sports reporter",
    ],
)
def test_prose_that_mentions_points_is_not_a_byline(line: str) -> None:
    assert drop_point_bylines([line]) == [line]


# --- drop_share_bars --------------------------------------------------------------------------


@pytest.mark.parametrize(
    "bar",
    [
        "19 30,040 Share 78% Upvoted",
        "Share",
        "Tweet Email Print",
        "Facebook Twitter WhatsApp Reddit",
        "1,200 views 40 comments",
        "Copy link",
        "Like Reply Report",
        "Share this article",
        "Share on Facebook",
    ],
)
def test_a_bar_of_counts_and_social_buttons_is_dropped(bar: str) -> None:
    assert drop_share_bars(["The volcano erupted overnight.", bar]) == ["The volcano erupted overnight."]


@pytest.mark.parametrize(
    "line",
    [
        "Share prices fell sharply on Monday.",
        "Follow the river to the old mill.",
        "Readers may email the editor with questions.",
        "Eruption timeline",
        "12",
    ],
)
def test_lines_with_other_words_than_social_buttons_are_kept(line: str) -> None:
    assert drop_share_bars([line]) == [line]


def test_a_long_line_of_button_words_is_not_a_share_bar() -> None:
    line = "Share like comment reply tweet pin email print"
    assert drop_share_bars([line]) == [line]


# --- drop_media_prompts ----------------------------------------------------------------------


@pytest.mark.parametrize(
    "line",
    [
        'Be sure to check out the "Harvest Moon" music video below.',
        "Watch the trailer below:",
        "Take a look at the photos above!",
        "Don't forget to listen to the full interview below.",
    ],
)
def test_a_pointer_to_a_lost_player_or_gallery_is_dropped(line: str) -> None:
    assert drop_media_prompts(["The orchard reopened in May.", line]) == ["The orchard reopened in May."]


@pytest.mark.parametrize(
    "line",
    [
        "Temperatures fell well below freezing on Tuesday.",
        "See the chart below for the full results, which the council published after a two-year survey of "
        "every street in the district.",
        "Watch the river: it rose above the bridge twice this winter.",
    ],
)
def test_prose_that_mentions_below_or_above_is_kept(line: str) -> None:
    assert drop_media_prompts([line]) == [line]


# --- drop_shop_blocks -------------------------------------------------------------------------

GARDEN_SHOP = [
    "The garden show opened on Saturday with record crowds and three new varieties of rose.",
    "",
    "Shop the look",
    "Copper Watering Can, 5 Litre",
    "$48",
    "",
    "Heritage Rose Seeds (Pack of 20)",
    "£6.99",
    "",
    "Judges will announce the winners on Sunday afternoon in the main marquee.",
]


def test_a_shop_block_is_dropped_up_to_the_next_prose() -> None:
    assert drop_shop_blocks(GARDEN_SHOP) == [
        "The garden show opened on Saturday with record crowds and three new varieties of rose.",
        "",
        "Judges will announce the winners on Sunday afternoon in the main marquee.",
    ]


@pytest.mark.parametrize(
    "heading",
    ["Shop the story", "SHOP THE LOOK", "Buy this edit", "Shop now", "Related products:", "Products in this article"],
)
def test_every_kind_of_shop_heading_opens_a_shop_block(heading: str) -> None:
    lines = ["The market opened at dawn.", heading, "Wicker Basket", "$19", "Linen Apron", "$32"]
    assert drop_shop_blocks(lines) == ["The market opened at dawn."]


def test_prose_after_a_shop_block_is_kept_with_everything_after_it() -> None:
    lines = ["Shop the story", "Wicker Basket", "$19", "Stalls stay open until nine on Fridays.", "Opening hours"]
    assert drop_shop_blocks(lines) == ["Stalls stay open until nine on Fridays.", "Opening hours"]


def test_prose_that_mentions_a_shop_is_not_a_shop_heading() -> None:
    lines = ["The village shop sold the story's first edition.", "Shopkeepers", "$19"]
    assert drop_shop_blocks(lines) == lines


# --- drop_comments ----------------------------------------------------------------------------

QUARRY = [
    "The quarry reopened on Friday after a safety review that lasted two years.",
    "",
    "Local residents said the noise was lower than before.",
    "",
]


@pytest.mark.parametrize(
    "marker",
    ["SHOW ALL COMMENTS", "View 12 comments", "Load more comments", "Comments", "12 Comments", "Comments (3)",
     "Leave a comment", "Write a reply", "Reader comments (40)"],
)  # fmt: skip
def test_everything_from_a_comments_marker_on_is_dropped(marker: str) -> None:
    thread = [marker, "Great news for the town!", "", "Newsletter", "Trending now"]
    assert drop_comments([*QUARRY, *thread]) == QUARRY


def test_a_commenters_name_above_their_header_goes_with_the_thread() -> None:
    thread = ["river_rat", "river_rat2,345 pts Monday, March 4, 2024 0", "Great news for the town!", "12 (+13 / -1)"]
    assert drop_comments([*QUARRY, *thread]) == QUARRY


def test_a_comment_header_without_a_name_above_starts_the_thread() -> None:
    thread = ["Stone-Cutter-9x1,020 pts Tuesday, March 5, 2024", "The dust was awful for years."]
    assert drop_comments([*QUARRY, *thread]) == QUARRY


@pytest.mark.parametrize(
    "line",
    [
        "The minister declined to comment on the quarry.",
        "Comments from neighbours were mixed, the council said.",
        "40 pts in one night is a club record, the coach said.",
        "She finished with 31 pts and 12 rebounds.",
    ],
)
def test_prose_about_comments_or_points_does_not_end_the_article(line: str) -> None:
    lines = [*QUARRY, line, "", "The quarry will close again in December."]
    assert drop_comments(lines) == lines


# --- drop_newsletter_prompts ------------------------------------------------------------------


@pytest.mark.parametrize(
    "prompt",
    [
        "Coast Gazette in your Inbox",
        "THE TOP 10 STORIES DELIVERED DAILY",
        "SEND",
        "Submit",
        "Subscribe",
        "Sign up for our newsletter",
        "Enter your email",
        "Enter your e-mail address",
        "New Message",
        "Get the latest headlines",
    ],
)
def test_a_newsletter_prompt_is_dropped(prompt: str) -> None:
    assert drop_newsletter_prompts(["The orchestra played in the park.", prompt]) == [
        "The orchestra played in the park."
    ]


@pytest.mark.parametrize(
    "line",
    [
        "The chess club's newsletter, first printed in 1952, announced the results on its front page.",
        "More than two thousand people had signed up for the walk by the time the registration closed.",
        "He sent the letter on Monday.",
        "Sign language interpreters",
    ],
)
def test_prose_and_headings_that_only_mention_mail_are_kept(line: str) -> None:
    assert drop_newsletter_prompts([line]) == [line]


# --- drop_relative_timestamps -----------------------------------------------------------------


@pytest.mark.parametrize(
    "stamp", ["48 minutes ago      319", "56 minutes ago 585", "an hour ago", "1 day ago", "3 weeks ago", "a year ago"]
)
def test_a_widget_timestamp_is_dropped(stamp: str) -> None:
    assert drop_relative_timestamps(["Trending", stamp]) == ["Trending"]


@pytest.mark.parametrize(
    "line",
    [
        "Two days ago, the volcano began to rumble.",
        "3 days ago the council voted to close the road.",
        "The eruption began 10 minutes ago, officials said.",
    ],
)
def test_prose_that_says_how_long_ago_is_kept(line: str) -> None:
    assert drop_relative_timestamps([line]) == [line]


# --- drop_label_runs --------------------------------------------------------------------------


def test_a_stack_of_three_short_labels_is_dropped() -> None:
    lines = ["The tournament ended in a draw.", "", "1. Chess", "2. Go", "3. Shogi", "", "Play resumes in June."]
    assert drop_label_runs(lines) == ["The tournament ended in a draw.", "", "", "Play resumes in June."]


def test_a_trending_list_at_the_end_of_the_page_is_dropped() -> None:
    lines = ["Play resumes in June.", "misc.", "Grandmaster Lee", "Chess Olympiad", "Blitz Cup", "misc."]
    assert drop_label_runs(lines) == ["Play resumes in June."]


def test_two_short_lines_together_are_kept() -> None:
    lines = ["Tournament results", "Round one", "", "The tournament ended in a draw."]
    assert drop_label_runs(lines) == lines


def test_short_subheadings_between_blank_lines_are_kept() -> None:
    lines = ["Opening", "", "Play began at noon.", "", "Middle game", "", "Endgame", "", "A draw was agreed."]
    assert drop_label_runs(lines) == lines


def test_consecutive_prose_lines_are_never_a_label_run() -> None:
    lines = ["He moved first.", "She replied at once.", "They agreed a draw.", "Nobody complained."]
    assert drop_label_runs(lines) == lines


def test_a_prose_line_breaks_a_run_of_labels() -> None:
    lines = ["Tags", "Chess", "The tournament ended in a draw after six hours of play.", "Go", "Shogi"]
    assert drop_label_runs(lines) == lines


# --- drop_leading_labels ----------------------------------------------------------------------


def test_a_section_label_above_the_headline_is_dropped() -> None:
    assert drop_leading_labels(["News", "Volcano wakes up near the village", "", "Ash fell."]) == [
        "Volcano wakes up near the village",
        "",
        "Ash fell.",
    ]


def test_several_labels_and_blank_lines_above_the_headline_are_dropped() -> None:
    assert drop_leading_labels(["", "Science", "", "Geology", "Volcano wakes up", "Ash fell."]) == [
        "",
        "",
        "Volcano wakes up",
        "Ash fell.",
    ]


@pytest.mark.parametrize(
    "lines",
    [
        ["Volcano wakes up", "Science", "Ash fell."],  # a label after the headline is not leading
        ["Eruption!", "Ash fell over the village."],  # one word, but a sentence
        ["Supercalifragilisticexpialidocious", "Ash fell."],  # one word, but too long for a label
        ["", "", ""],
    ],
)
def test_lines_that_are_not_leading_labels_are_kept(lines: list[str]) -> None:
    assert drop_leading_labels(list(lines)) == lines


# --- collapse_blank_lines ---------------------------------------------------------------------


def test_runs_of_blank_lines_become_one() -> None:
    assert collapse_blank_lines(["Ash fell.", "", "", "   ", "\t", "Roads closed."]) == [
        "Ash fell.",
        "",
        "Roads closed.",
    ]


def test_blank_lines_at_the_start_and_end_are_dropped() -> None:
    assert collapse_blank_lines(["", " ", "Ash fell.", "", "Roads closed.", "", ""]) == [
        "Ash fell.",
        "",
        "Roads closed.",
    ]


def test_a_page_of_only_blank_lines_becomes_nothing() -> None:
    assert collapse_blank_lines(["", "  ", ""]) == []


# --- normalise_spaces -------------------------------------------------------------------------


@pytest.mark.parametrize("space", ["\u00a0", "\u2007", "\u202f", "\u2009", "\u200a", "\u3000"])
def test_odd_spaces_become_plain_spaces(space: str) -> None:
    assert normalise_spaces(f"ten{space}boats") == "ten boats"


@pytest.mark.parametrize("mark", ["\u200b", "\ufeff"])
def test_zero_width_marks_are_removed(mark: str) -> None:
    assert normalise_spaces(f"{mark}ferry{mark}man") == "ferryman"


def test_runs_of_spaces_fold_and_lines_are_trimmed() -> None:
    assert normalise_spaces("  The   ferry \u00a0 left.\t\t \nIt  rained. ") == "The ferry left.\nIt rained."


def test_windows_line_ends_become_plain_line_breaks() -> None:
    assert normalise_spaces("Ash fell.\r\n\r\nRoads closed.\r\n") == "Ash fell.\n\nRoads closed.\n"


def test_blank_lines_between_paragraphs_are_kept() -> None:
    assert normalise_spaces("Ash fell.\n\n\nRoads closed.") == "Ash fell.\n\n\nRoads closed."


def test_accents_are_composed() -> None:
    assert normalise_spaces("Cafe\u0301 de la Gare") == "Café de la Gare"


# --- split_leading_date -----------------------------------------------------------------------


@pytest.mark.parametrize(
    "prefix",
    [
        "date 2024-01-28 ",
        " date 2024-01-28 ",
        "Published: 2024-01-28 | ",
        "POSTED 2024-01-28 - ",
        "updated:2024-01-28\n",
    ],
)
def test_a_scraped_date_prefix_is_split_from_the_text(prefix: str) -> None:
    assert split_leading_date(f"{prefix}The orchestra played in the park.") == (
        "2024-01-28",
        "The orchestra played in the park.",
    )


@pytest.mark.parametrize(
    "text",
    [
        "The orchestra played in the park on 2024-01-28.",
        "Dated 2024-01-28, the letter arrived late.",
        "date 28/01/2024 The orchestra played.",
        "Update 2024-01-28 The orchestra played.",
        "",
    ],
)
def test_text_without_a_leading_date_prefix_is_left_alone(text: str) -> None:
    assert split_leading_date(text) == (None, text)


# --- clean, on an invented page ---------------------------------------------------------------


def test_clean_strips_a_whole_invented_page_down_to_its_article() -> None:
    page = "\n".join(
        [
            "date 2024-03-04 ",
            "412",
            "",
            "Science",
            "Posted by HarbourWatch98,112 pts Monday, March 4, 2024",
            "",
            "Volcano wakes up near the village",
            "",
            "The volcano erupted\u00a0on Tuesday, sending ash across the valley and closing two roads.",
            "",
            '"We have never seen it this active," the geologist said.',
            "",
            "1. Ash reached the coast.",
            "",
            "Shop the story",
            "Dust Mask (Pack of 10)",
            "$12",
            "Facebook Twitter Email",
            "ash_watcher",
            "ash_watcher2,004 pts Tuesday, March 5, 2024 0",
            "Stay safe, everyone!",
            "SHOW ALL COMMENTS",
            "Coast Gazette in your Inbox",
            "48 minutes ago      319",
        ]
    )
    assert clean(page) == "\n".join(
        [
            "Volcano wakes up near the village",
            "",
            "The volcano erupted on Tuesday, sending ash across the valley and closing two roads.",
            "",
            '"We have never seen it this active," the geologist said.',
            "",
            "1. Ash reached the coast.",
        ]
    )


def test_clean_with_no_rules_only_normalises_spaces() -> None:
    assert clean("date 2024-03-04 412\u00a0\n\n\nShare", rules=()) == "412\n\n\nShare"


# --- clean, on the scraped articles -----------------------------------------------------------


@pytest.mark.parametrize(
    "comment", ["Thank you to both IU and V for this project", "Taehyung was working so hard, even until the end."]
)
def test_reader_comments_are_never_kept(scraped: str, comment: str) -> None:
    assert comment in _body(SCRAPED)
    assert comment not in scraped


def test_commenters_and_their_points_are_gone(scraped: str) -> None:
    assert "Kirsty_Louise" not in scraped
    assert "Visual-King-Tae" not in scraped
    assert "pts" not in scraped


@pytest.mark.parametrize("clutter", ["Shop the story", "VOGUE", "BAZAAR", "$25", "$24"])
def test_the_shop_block_and_its_prices_are_gone(scraped: str, clutter: str) -> None:
    assert clutter not in scraped


@pytest.mark.parametrize(
    "clutter",
    ["allkpop in your Inbox", "THE TOP 10 STORIES", "48 minutes ago", "56 minutes ago", "New Message", "SEND"],
)
def test_the_newsletter_box_and_trending_list_are_gone(scraped: str, clutter: str) -> None:
    assert clutter not in scraped


def test_the_label_byline_counters_and_share_bar_are_gone(scraped: str) -> None:
    lines = scraped.splitlines()
    assert lines[0].startswith("3 reasons BTS's V (Kim Taehyung) accepted the role")
    for clutter in ("215", "60", "News", "Posted by", "Upvoted", "misc.", "ATEEZ", "NewJeans"):
        assert clutter not in lines


def test_no_no_break_space_is_left(scraped: str) -> None:
    assert "\u00a0" in _body(SCRAPED)
    assert "\u00a0" not in scraped


@pytest.mark.parametrize(
    "quote",
    [
        "it was totally my jam",
        '"But Mr. Um, who on earth is like that?"',
        "I think they'll be able to see some fun stuff while waiting.",
        "it would be a precious memory to work on a piece with him",
    ],
)
def test_the_articles_quotes_are_kept(scraped: str, quote: str) -> None:
    assert quote in scraped


def test_the_three_numbered_reasons_are_kept_as_lines_of_their_own(scraped: str) -> None:
    lines = scraped.splitlines()
    for reason in (
        "1. He admires Director Um Tae Hwa.",
        "2. He didn't have time to shoot a drama or film.",
        "3. He loved IU's song.",
    ):
        assert reason in lines


def test_every_line_of_the_scraped_article_survives_and_nothing_else(scraped: str) -> None:
    raw = _prose_lines(_body(SCRAPED))
    first = raw.index(next(line for line in raw if line.startswith("3 reasons")))
    last = raw.index('Be sure to check out the "Love Wins All" music video below.')  # a pointer to a lost player
    assert _prose_lines(scraped) == raw[first:last]


def test_paragraphs_stay_separated_by_exactly_one_blank_line(scraped: str) -> None:
    assert "\n\n\n" not in scraped
    assert scraped == scraped.strip()
    assert all(paragraph.strip() for paragraph in scraped.split("\n\n"))
    assert len(scraped.split("\n\n")) == len(_prose_lines(scraped))


@pytest.mark.parametrize("name", ["001_02271dd564ed3126.txt", "002_9d4e7a3b1bba4444.txt"])
def test_articles_without_clutter_keep_every_paragraph(name: str) -> None:
    body = _body(ARTICLES / name)
    cleaned = clean(body)
    expected = _prose_lines(split_leading_date(body)[1])
    assert _prose_lines(cleaned) == expected
    assert len(cleaned.split("\n\n")) == len(expected)


def test_the_scraped_date_prefix_is_not_left_in_the_text() -> None:
    cleaned = clean(_body(ARTICLES / "001_02271dd564ed3126.txt"))
    assert cleaned.startswith("On January 28, 2024, a video titled Love Wins All MV BTS was unveiled")


def test_the_article_count_of_prose_lines_is_what_was_written() -> None:
    counts = {path.name: len(_prose_lines(clean(_body(path)))) for path in sorted(ARTICLES.glob("*.txt"))}
    assert counts == {
        "000_c48745c27fb190c3.txt": 17,  # "Be sure to check out … below." is a pointer, not prose
        "001_02271dd564ed3126.txt": 19,
        "002_9d4e7a3b1bba4444.txt": 9,
    }
