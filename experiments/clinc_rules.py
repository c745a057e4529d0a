"""#23 experiment (stop 35; in the product at commit 668a410 as datasets/clinc.py, reverted):
what CLINC150's requests ask of an assistant. CLINC150 was written for a task-oriented
assistant with a phone, a bank and a calendar behind it; asked of a text-only chat model, many of
its requests cannot be carried out. One reviewed table: a request is

- `modalities` ("actions"): an order to act on a device or an account ("text dave, i'll be
  there soon", "set a timer for ten minutes", "transfer $100 to savings");
- `knowledge_cutoff`: a live fact no training data holds ("what's the weather in boston",
  "how is traffic on i-95", "what time is it in mst");
- `training_data_limits`: a look-up of the user's own records ("what is my credit score",
  "when is my bill due"), which the model cannot see (not a steering category);
- None: anything else, which a chat model can answer (definitions, advice, recipes, small talk).

Patterns, not a learned model: the rows carry no intent label, and a rule is reviewable."""

from __future__ import annotations

import re

_POLITE = (
    r"^(?:(?:please|pls|can you|could you|would you|will you|i want you to|i need you to|"
    r"i'd like you to|i would like you to|go ahead and|ok|okay|hey|now|just|alexa|"
    r"i want to|i'd like to|i would like to|i need to|i wish to|help me)[ ,]+)*"
)
_ACTIONS = (
    r"(?:text|dial|phone|call(?! me\b)|play(?! (?:a|some|the) games?\b)|skip|shuffle|"
    r"set (?:an? |the |my )?(?:alarm|timer|reminder)|set my|turn (?:on|off|up|down)|"
    r"switch (?:on|off)|book|reserve|order|pay|transfer|send|share my|"
    r"(?:add|put) .+ (?:to|on|in) (?:my|the) (?:list|playlist|calendar|shopping list|"
    r"to ?do list|to-do list|reminders)|(?:remove|erase|delete|take) .+ (?:from|off) (?:my|the)|"
    r"cancel (?:my|the|our|a) (?:\w+ )?(?:reservation|order|appointment|meeting|flight|card|"
    r"subscription|booking|alarm|timer|reminder)|track my|answer the phone|connect (?:to|with) my|"
    r"freeze|unfreeze|lock|unlock|lower|raise|mute|unmute|"
    r"change (?:the|your) (?:volume|accent|voice|language|speed)|speak (?:faster|slower|louder)|"
    r"whisper|reset|restore|revert|sync|schedule|remind me|wake me|notify|rent|buy|purchase|"
    r"redeem|make (?:a|an|my) (?:call|phone call|reservation|appointment|payment|transfer)|"
    r"find my phone|locate my phone|report (?:my|a) (?:lost|stolen|damaged|missing))\b"
)
ACTION = re.compile(_POLITE + _ACTIONS, re.IGNORECASE)
LIVE = re.compile(
    r"\b(?:weather|forecast|traffic|what time is it|time is it (?:now|right now|in)|"
    r"current time|today's date|date today|what day is it|exchange rate|how busy|"
    r"currently playing|flight status|status of my (?:\w+ )?flight)\b",
    re.IGNORECASE,
)
_MINE = (
    r"\bmy (?:\w+ )?(?:account|checking|savings|bank|balance|card|credit score|credit limit|"
    r"bill|pin|routing number|w-?2|pto|vacation days|days off|day off|time off|paycheck|payday|"
    r"salary|insurance|401k|reservation|flight|order|package|meeting|calendar|to ?do list|"
    r"shopping list|reminders|rewards|points|taxes|transactions|spending|apr|interest rate|"
    r"application|luggage|direct deposit|appointment|alarms?|timers?|playlist|location|"
    r"oil change|last oil change)\b"
)
_LOOKUP = (
    r"(?:what|what's|whats|when|where|how much|how many|is|are|has|have|did|tell me|give me|"
    r"check|show me|let me know|look up|find out|i need to know|i want to know|"
    r"i'd like to know|i would like to know|can you tell me)\b"
)
RECORD = re.compile(_POLITE + _LOOKUP + r".*" + _MINE, re.IGNORECASE)
HOW_TO = re.compile(r"^(?:how (?:do|can|should|would|could) (?:i|we|you)|why)\b", re.IGNORECASE)


def clinc_category(request: str) -> str | None:
    """The taxonomy category of a CLINC150 request a text-only assistant cannot carry out, or
    None when it can answer it. "how do i..." questions are advice, whatever they name."""
    text = " ".join(request.lower().split())
    if HOW_TO.search(text):
        return None
    if ACTION.search(text):
        return "modalities"
    if LIVE.search(text):
        return "knowledge_cutoff"
    if RECORD.search(text):
        return "training_data_limits"
    return None


__all__ = ["clinc_category"]
