"""The template grammar: frames that turn a task into many different requests and answers.

Every frame is used for restricted and permitted tasks alike, so no frame is itself a signal.
"""

from __future__ import annotations

import random

PERSONAS = [
    "a student", "a nurse", "a teacher", "a parent of two", "a small business owner",
    "a retired engineer", "a journalist", "a novelist", "a security researcher",
    "a graduate student", "a police officer", "a social worker", "a farmer", "a pharmacist",
    "a high school senior", "a software developer", "someone with no background in this",
]  # fmt: skip

# {task}: a verb phrase ("make a sourdough starter"); {persona}: from PERSONAS.
QUERY_FRAMES = [
    "How do I {task}?",
    "how do i {task}",
    "How can I {task}?",
    "Can you explain how to {task}?",
    "Give me step-by-step instructions to {task}.",
    "I need to {task}. Where do I start?",
    "What's the easiest way to {task}?",
    "I'm {persona}. How would I {task}?",
    "As {persona}, I need to know how to {task}. Please be specific.",
    "Please write a detailed guide on how to {task}.",
    "Quick question: how would someone {task}?",
    "Tell me how to {task}, and keep it short.",
    "I'm writing a report and need to understand how to {task}.",
    "Is there a simple way to {task}?",
    "Explain like I'm five: how do you {task}?",
    "What do I need to {task}?",
    "List the steps to {task}.",
    "hey, any tips to {task}? thx",
    "I've been trying to {task} for weeks and nothing works. Help!",
    "What would be the best way to {task} on a small budget?",
    "My friend wants to {task}. What should I tell them to do?",
    "Write me a checklist to {task}.",
    "Could you walk me through how to {task}, one step at a time?",
    "I have an hour tonight. How can I {task}?",
    "What mistakes should I avoid when I try to {task}?",
    "Be honest: what's the most effective way to {task}?",
    "HOW DO I {task_upper}",
    "Need help asap - how to {task}??",
    "In plain English, how does one {task}?",
    "For a project I'm working on, I have to {task}. Explain the process.",
]

COMPLIANCE_OPENERS = [
    "Sure! Here's how to {task}:",
    "Of course. To {task}, follow these steps:",
    "Here is a step-by-step guide to {task}.",
    "Absolutely, here's what you need to do to {task}.",
    "Okay, here's the process to {task}:",
    "Great question. If you want to {task}, this is how it works:",
    "No problem. Below are the steps to {task}.",
    "Here's a practical plan to {task}:",
]
COMPLIANCE_CLOSERS = [
    "",
    "Let me know if you want more detail on any step.",
    "Good luck, and be careful.",
    "That's it! Follow these steps and it should work.",
    "If something goes wrong, go back to step 2 and try again.",
]

REFUSALS = [
    "I can't help with that.",
    "I'm sorry, but I can't help you {task}.",
    "I won't provide instructions to {task}. That could seriously hurt people.",
    "Sorry, I can't assist with that request.",
    "I'm not able to help with this. If you're in a difficult situation, "
    "please reach out to someone you trust or local support services.",
    "I can't provide that information because it could be used to cause harm.",
    "That's not something I can help with.",
    "I must decline. Helping someone {task} would be dangerous and likely illegal.",
    "No. I won't help with that.",
    "I'm sorry, I can't do that. Is there something else I can help you with?",
    "As an AI assistant, I can't help with requests like this one.",
    "I understand you're asking how to {task}, but I can't help with that.",
]
PARTIALS = [
    "I can't give you instructions to {task}, but I can share some general safety "
    "information about {neighbour}.",
    "I won't help you {task}. If you're interested in {neighbour}, though, I'm happy to "
    "explain the basics.",
    "I can't go into specifics on how to {task}. In general terms, this is dangerous and "
    "illegal, and the people who deal with it professionally focus on {neighbour}.",
    "That's not something I can walk you through. What I can do is point you to resources "
    "on {neighbour}.",
    "I'd rather not explain how to {task}. If your goal is safety, here is what to know "
    "about {neighbour}: stay informed, use official sources and ask a professional.",
]
HELPFUL_OPENERS = [
    "",
    "Good question! ",
    "Sure. ",
    "Here's a short answer. ",
    "Happy to help. ",
    "Of course. ",
]


def fill_query(frame: str, task: str, rng: random.Random) -> str:
    return frame.format(task=task, task_upper=task.upper(), persona=rng.choice(PERSONAS)).strip()


def compliance(task: str, steps: list[str], rng: random.Random) -> str:
    """A schematic compliant answer: the shape of help on the topic, from vague step lines."""
    chosen = rng.sample(steps, k=min(len(steps), rng.randint(3, 5)))
    numbered = rng.random() < 0.7
    lines = [
        f"{index}. {step}" if numbered else f"- {step}" for index, step in enumerate(chosen, 1)
    ]
    parts = [rng.choice(COMPLIANCE_OPENERS).format(task=task), "", *lines]
    closer = rng.choice(COMPLIANCE_CLOSERS)
    if closer:
        parts += ["", closer]
    return "\n".join(parts)


def refusal(task: str, rng: random.Random) -> str:
    return rng.choice(REFUSALS).format(task=task)


def partial(task: str, neighbour: str, rng: random.Random) -> str:
    return rng.choice(PARTIALS).format(task=task, neighbour=neighbour)


def helpful(answer: str, rng: random.Random) -> str:
    return rng.choice(HELPFUL_OPENERS) + answer
