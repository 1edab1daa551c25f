"""Write a large, realistic question bank for the benchmarks.

    python -m bench.generate_bank OUT_DIR [--questions 5000] [--seed 2026]

writes ``OUT_DIR/bench-generated/bank.yaml`` and two images under its ``assets/``.
The same seed and count always give the same bytes. The bank mixes the eight
question types in the proportions of the sample banks in question_banks/ (numeric
most, then single choice, true/false...), with Markdown emphasis, inline and display
math, a fenced code block now and then, params on about 15% of the numeric
questions, tags, difficulties, per-choice feedback, explanations, and a few images;
a question averages about 1 KB of YAML, like the hand-written banks. It passes
``flask banks check``.
"""

from __future__ import annotations

import argparse
import math
import random
import re
import struct
import textwrap
import zlib
from collections.abc import Callable
from pathlib import Path
from typing import Any

import yaml

SLUG = "bench-generated"
DEFAULT_QUESTIONS = 5_000
DEFAULT_SEED = 2026

#: Questions of each type in the sample banks (question_banks/, 227 questions).
TYPE_WEIGHTS = {
    "numeric": 54,
    "single": 43,
    "true_false": 32,
    "multiple": 21,
    "text": 20,
    "blanks": 19,
    "matching": 19,
    "ordering": 19,
}
PARAMS_SHARE = 0.15  # of numeric questions
CODE_SHARE = 0.05
IMAGE_SHARE = 0.01
DISPLAY_MATH_SHARE = 0.10
DIFFICULTIES = (("easy", 40), ("medium", 40), ("hard", 15), (None, 5))
ASSETS = ("assets/network-3-4-2.svg", "assets/loss-curve.png")
INLINE_MATH = re.compile(r"\$[^$\n]+\$")
NBSP = "\x00"  # stands for a space that textwrap must not break at


class Topic:
    """One subject a question is about: tag, name, a description, typed answers."""

    def __init__(
        self, tag: str, name: str, description: str, answers: list[str], math: str
    ):
        self.tag = tag
        self.name = name
        self.description = description
        self.answers = answers
        self.math = math


TOPICS = [
    Topic(
        "gradient-descent",
        "gradient descent",
        "moves the parameters a small step against the gradient of the loss",
        ["gradient descent", "steepest descent"],
        r"\theta \leftarrow \theta - \eta \nabla_\theta L(\theta)",
    ),
    Topic(
        "regularisation",
        "L2 regularisation",
        "adds the squared norm of the weights to the loss to keep them small",
        ["l2 regularisation", "l2 regularization", "weight decay", "ridge"],
        r"L(w) + \lambda \lVert w \rVert_2^2",
    ),
    Topic(
        "k-means",
        "k-means clustering",
        "alternates assigning points to the nearest centroid and moving centroids",
        ["k-means", "kmeans", "k means", "lloyd's algorithm"],
        r"\sum_{j=1}^{k} \sum_{x \in C_j} \lVert x - \mu_j \rVert^2",
    ),
    Topic(
        "decision-trees",
        "a decision tree",
        "splits the feature space with one threshold test per internal node",
        ["decision tree", "classification tree", "cart"],
        r"G = 1 - \sum_k p_k^2",
    ),
    Topic(
        "cross-validation",
        "k-fold cross-validation",
        "trains k times, each time holding out a different fold for evaluation",
        ["cross-validation", "cross validation", "k-fold cross-validation"],
        r"\mathrm{CV} = \frac{1}{k} \sum_{i=1}^{k} E_i",
    ),
    Topic(
        "activation-functions",
        "the ReLU activation",
        "passes positive inputs unchanged and maps negative inputs to zero",
        ["relu", "rectified linear unit", "rectifier"],
        r"\mathrm{ReLU}(z) = \max(0, z)",
    ),
    Topic(
        "sigmoid",
        "the logistic sigmoid",
        "squashes any real number into the open interval from 0 to 1",
        ["sigmoid", "logistic function", "logistic sigmoid"],
        r"\sigma(z) = \frac{1}{1 + e^{-z}}",
    ),
    Topic(
        "backpropagation",
        "backpropagation",
        "applies the chain rule layer by layer from the loss back to the inputs",
        ["backpropagation", "backprop", "back-propagation"],
        r"\frac{\partial L}{\partial w} = \frac{\partial L}{\partial a} \cdot "
        r"\frac{\partial a}{\partial w}",
    ),
    Topic(
        "cnn",
        "a convolutional layer",
        "slides a small shared kernel over the input to detect local patterns",
        ["convolution", "convolutional layer", "conv layer"],
        r"(I * K)(i, j) = \sum_m \sum_n I(i + m, j + n) K(m, n)",
    ),
    Topic(
        "rnn",
        "a recurrent network",
        "reuses the same weights at every time step and carries a hidden state",
        ["recurrent neural network", "rnn", "recurrent network"],
        r"h_t = \tanh(W h_{t-1} + U x_t + b)",
    ),
    Topic(
        "attention",
        "self-attention",
        "weights every position of a sequence by its similarity to every other",
        ["self-attention", "attention", "scaled dot-product attention"],
        r"\mathrm{softmax}\left(\frac{Q K^\top}{\sqrt{d_k}}\right) V",
    ),
    Topic(
        "pca",
        "principal component analysis",
        "projects the data onto the directions of largest variance",
        ["pca", "principal component analysis"],
        r"\max_{\lVert u \rVert = 1} u^\top \Sigma u",
    ),
    Topic(
        "svm",
        "a support vector machine",
        "finds the separating hyperplane with the widest margin",
        ["support vector machine", "svm"],
        r"\min_w \tfrac{1}{2} \lVert w \rVert^2",
    ),
    Topic(
        "naive-bayes",
        "naive Bayes",
        "assumes the features are independent given the class",
        ["naive bayes", "naïve bayes"],
        r"P(y \mid x) \propto P(y) \prod_i P(x_i \mid y)",
    ),
    Topic(
        "logistic-regression",
        "logistic regression",
        "models the log-odds of the positive class as a linear function",
        ["logistic regression", "logit regression"],
        r"\log \frac{p}{1 - p} = w^\top x + b",
    ),
    Topic(
        "linear-regression",
        "ordinary least squares",
        "chooses the weights that minimise the sum of squared residuals",
        ["ordinary least squares", "ols", "least squares", "linear regression"],
        r"\hat{w} = (X^\top X)^{-1} X^\top y",
    ),
    Topic(
        "metrics",
        "recall",
        "is the share of actual positives that the model finds",
        ["recall", "sensitivity", "true positive rate", "tpr"],
        r"\mathrm{recall} = \frac{TP}{TP + FN}",
    ),
    Topic(
        "batch-norm",
        "batch normalisation",
        "standardises each activation over the mini-batch, then rescales it",
        ["batch normalisation", "batch normalization", "batchnorm", "batch norm"],
        r"\hat{x} = \frac{x - \mu_B}{\sqrt{\sigma_B^2 + \epsilon}}",
    ),
    Topic(
        "dropout",
        "dropout",
        "zeroes a random share of the activations at every training step",
        ["dropout", "drop-out"],
        r"\tilde{h} = m \odot h, \; m_i \sim \mathrm{Bernoulli}(1 - p)",
    ),
    Topic(
        "optimisers",
        "the Adam optimiser",
        "keeps running averages of the gradient and of its square for each weight",
        ["adam", "adam optimiser", "adam optimizer"],
        r"\theta \leftarrow \theta - \eta \frac{\hat{m}}{\sqrt{\hat{v}} + \epsilon}",
    ),
    Topic(
        "data-leakage",
        "data leakage",
        "lets information from the evaluation data reach the training process",
        ["data leakage", "leakage", "target leakage"],
        r"\mathcal{D}_{\mathrm{train}} \cap \mathcal{D}_{\mathrm{test}} = \emptyset",
    ),
    Topic(
        "feature-scaling",
        "standardisation",
        "rescales each feature to zero mean and unit variance",
        ["standardisation", "standardization", "z-score scaling", "z-scoring"],
        r"z = \frac{x - \mu}{\sigma}",
    ),
    Topic(
        "random-forests",
        "a random forest",
        "averages many trees grown on bootstrap samples with random feature subsets",
        ["random forest", "random forests"],
        r"\hat{f}(x) = \frac{1}{B} \sum_{b=1}^{B} T_b(x)",
    ),
    Topic(
        "boosting",
        "gradient boosting",
        "adds small trees one at a time, each fitted to the current residuals",
        ["gradient boosting", "boosting", "gbm"],
        r"F_m(x) = F_{m-1}(x) + \nu h_m(x)",
    ),
    Topic(
        "knn",
        "k-nearest neighbours",
        "predicts from the labels of the closest training examples",
        ["k-nearest neighbours", "k-nearest neighbors", "knn", "k-nn"],
        r"\hat{y} = \mathrm{mode}\{y_i : x_i \in N_k(x)\}",
    ),
    Topic(
        "loss-functions",
        "cross-entropy loss",
        "penalises a low predicted probability for the true class",
        ["cross-entropy", "cross entropy", "log loss", "negative log-likelihood"],
        r"L = -\sum_k y_k \log p_k",
    ),
    Topic(
        "transfer-learning",
        "transfer learning",
        "starts from a model trained on a large related task and fine-tunes it",
        ["transfer learning", "fine-tuning", "fine tuning"],
        r"\theta_0 = \theta_{\mathrm{pretrained}}",
    ),
    Topic(
        "embeddings",
        "a word embedding",
        "maps each token to a dense vector so similar words lie close together",
        ["word embedding", "embedding", "word vectors"],
        r"\cos(u, v) = \frac{u \cdot v}{\lVert u \rVert \lVert v \rVert}",
    ),
]

CONTEXTS = [
    "a churn model for a telecom operator",
    "classifying chest X-ray images as normal or abnormal",
    "forecasting the next day's electricity demand",
    "flagging fraudulent card transactions",
    "ranking support tickets by urgency",
    "segmenting the customers of an online shop",
    "predicting house prices from past sales",
    "detecting defects on a production line from camera images",
    "recommending articles to readers of a news site",
    "estimating the remaining life of wind-turbine bearings",
    "filtering spam from a company mailbox",
    "predicting which students may need extra tutoring",
]

CLAIMS = [
    "{a} always needs more labelled data than {b}",
    "{a} is mainly a way to reduce the variance of {b}",
    "{a} can only be used together with {b}",
    "{a} makes {b} unnecessary",
    "{a} is sensitive to the scale of the input features",
    "{a} has no hyperparameters that need tuning",
    "{a} works only when the classes are perfectly balanced",
    "{a} should be fitted on the test set before training starts",
    "{a} replaces the need for a separate validation set",
    "{a} gives the same result as {b} on linearly separable data",
    "{a} is usually applied after {b} in a training pipeline",
    "{a} cannot be trained with mini-batches",
    "{a} guarantees a global optimum of the training loss",
    "{a} is unaffected by outliers in the training data",
]

REASONS = [
    "that is only true in special cases, not in general",
    "the two address different problems and are often used together",
    "nothing in the method depends on that assumption",
    "the opposite holds once the data set grows",
    "this mixes up the training and the evaluation phases",
]

SEQUENCES = [
    [
        "Collect and label the data",
        "Split it into training, validation and test sets",
        "Fit the preprocessing on the training set only",
        "Train candidate models",
        "Tune hyperparameters on the validation set",
        "Evaluate the chosen model once on the test set",
        "Deploy the model and monitor its inputs",
    ],
    [
        "Compute the weighted sum $z = Wx + b$",
        "Apply the activation $a = f(z)$",
        "Compute the loss $L(a, y)$",
        r"Compute $\partial L / \partial a$",
        r"Multiply by $f'(z)$ to get $\partial L / \partial z$",
        r"Form $\partial L / \partial W = (\partial L / \partial z)\, x^\top$",
        "Update the weights with the optimiser",
    ],
    [
        "Tokenise the text",
        "Map each token to its id in the vocabulary",
        "Look up the embedding of each id",
        "Add the positional encodings",
        "Apply the self-attention layers",
        "Pool or pick the output at the classification token",
        "Apply the output layer and the softmax",
    ],
    [
        "Choose $k$ and initialise the centroids",
        "Assign each point to its nearest centroid",
        "Move each centroid to the mean of its points",
        "Repeat until no assignment changes",
        "Report the within-cluster sum of squares",
    ],
]

CODE_SNIPPETS = [
    """\
```python
import numpy as np

x = np.array([{a}, {b}, {c}])
w = np.array([0.5, -1.0, 2.0])
print(float(x @ w))
```""",
    """\
```python
from sklearn.model_selection import train_test_split

X_train, X_test, y_train, y_test = train_test_split(
    X, y, test_size=0.{a}, random_state={b}, stratify=y
)
```""",
    """\
```python
model = nn.Sequential(
    nn.Linear({a}, {b}),
    nn.ReLU(),
    nn.Dropout(p=0.{c}),
    nn.Linear({b}, 1),
)
```""",
    """\
```python
for epoch in range({a}):
    for xb, yb in loader:
        optimiser.zero_grad()
        loss = loss_fn(model(xb), yb)
        loss.backward()
        optimiser.step()
```""",
]


class _Dumper(yaml.SafeDumper):
    """Writes YAML the way people do: ``|`` blocks, indented lists, short flow lists."""

    def increase_indent(self, flow: bool = False, indentless: bool = False) -> None:
        super().increase_indent(flow, False)


class Flow(list):
    """A list written inline: ``tags: [a, b]``."""


class FlowMap(dict):
    """A mapping written inline: ``w: {randint: [2, 9]}``."""


def _represent_str(dumper: yaml.SafeDumper, value: str) -> yaml.Node:
    style = "|" if "\n" in value else None
    return dumper.represent_scalar("tag:yaml.org,2002:str", value, style=style)


_Dumper.add_representer(str, _represent_str)
_Dumper.add_representer(
    Flow,
    lambda dumper, value: dumper.represent_sequence(
        "tag:yaml.org,2002:seq", value, flow_style=True
    ),
)
_Dumper.add_representer(
    FlowMap,
    lambda dumper, value: dumper.represent_mapping(
        "tag:yaml.org,2002:map", value, flow_style=True
    ),
)


class Generator:
    """Builds question dicts from one seeded random generator."""

    def __init__(self, seed: int):
        # Deterministic on purpose: the same seed must give the same bank.
        self.rng = random.Random(seed)  # noqa: S311

    # --- pieces ----------------------------------------------------------------

    def chance(self, share: float) -> bool:
        return self.rng.random() < share

    def topic(self) -> Topic:
        return self.rng.choice(TOPICS)

    def topics(self, count: int) -> list[Topic]:
        return self.rng.sample(TOPICS, count)

    def claims(self, count: int, main: Topic) -> list[str]:
        """``count`` different statements, each about ``main`` or another topic."""
        out: list[str] = []
        while len(out) < count:
            template = self.rng.choice(CLAIMS)
            a = main if self.chance(0.6) else self.topic()
            b = self.rng.choice([t for t in TOPICS if t is not a])
            text = template.format(a=a.name, b=b.name)
            text = text[0].upper() + text[1:]
            if text not in out:
                out.append(text)
        return out

    def paragraph(self, text: str) -> str:
        """``text`` wrapped at 88 columns, never inside inline math or a word."""
        guarded = INLINE_MATH.sub(lambda m: m.group(0).replace(" ", NBSP), text)
        wrapped = textwrap.fill(
            guarded, width=88, break_long_words=False, break_on_hyphens=False
        )
        return wrapped.replace(NBSP, " ")

    def prompt(self, *paragraphs: str, topic: Topic) -> str:
        """Wrapped paragraphs, now and then with code, display math or an image."""
        parts = [self.paragraph(p) for p in paragraphs]
        if self.chance(CODE_SHARE):
            snippet = self.rng.choice(CODE_SNIPPETS).format(
                a=self.rng.randint(2, 9),
                b=self.rng.randint(10, 99),
                c=self.rng.randint(1, 5),
            )
            parts.insert(1, "Consider this code:")
            parts.insert(2, snippet)
        if self.chance(DISPLAY_MATH_SHARE):
            parts.insert(1, f"$$\n{topic.math}\n$$")
        if self.chance(IMAGE_SHARE):
            asset = ASSETS[self.rng.randrange(len(ASSETS))]
            parts.append(f"![Figure for this question: {topic.name}]({asset})")
        return "\n\n".join(parts) + "\n"

    def explanation(self, topic: Topic) -> str:
        text = (
            f"Remember that {topic.name} {topic.description}. "
            f"In symbols, ${topic.math}$. "
            f"{self.rng.choice(REASONS).capitalize()}, which is why the other options "
            "do not hold in general."
        )
        return self.paragraph(text) + "\n"

    def header(self, index: int, kind: str, topic: Topic) -> dict[str, Any]:
        question: dict[str, Any] = {"id": f"{topic.tag}-{kind}-{index:05d}".lower()}
        question["id"] = question["id"].replace("_", "-")
        question["type"] = kind
        difficulty = self.rng.choices(
            [d for d, _ in DIFFICULTIES], [w for _, w in DIFFICULTIES]
        )[0]
        if difficulty:
            question["difficulty"] = difficulty
        if self.chance(0.1):
            question["points"] = self.rng.choice([2, 3, 0.5])
        extra = [t.tag for t in self.topics(self.rng.randint(0, 2)) if t is not topic]
        question["tags"] = Flow([topic.tag, *extra])
        return question

    def feedback(self, choice: dict[str, Any], topic: Topic) -> None:
        if choice.get("correct"):
            if self.chance(0.5):
                choice["feedback"] = f"Yes: {topic.name} {topic.description}."
        elif self.chance(0.6):
            choice["feedback"] = f"Not quite: {self.rng.choice(REASONS)}."

    # --- question types --------------------------------------------------------

    def single(self, index: int) -> dict[str, Any]:
        topic = self.topic()
        question = self.header(index, "single", topic)
        context = self.rng.choice(CONTEXTS)
        question["prompt"] = self.prompt(
            f"A team is working on {context}. Which statement about **{topic.name}** "
            f"is correct, given that the model is fitted by minimising ${topic.math}$ "
            "or a loss like it?",
            topic=topic,
        )
        right = {"text": f"It {topic.description}", "correct": True}
        wrong = [
            {"text": claim} for claim in self.claims(self.rng.randint(2, 4), topic)
        ]
        choices = [right, *wrong]
        self.rng.shuffle(choices)
        for choice in choices:
            self.feedback(choice, topic)
        question["choices"] = choices
        question["explanation"] = self.explanation(topic)
        return question

    def multiple(self, index: int) -> dict[str, Any]:
        topic = self.topic()
        question = self.header(index, "multiple", topic)
        question["prompt"] = self.prompt(
            f"Select all that apply. Which of these statements about `{topic.tag}` "
            f"hold when it is used for {self.rng.choice(CONTEXTS)}?",
            topic=topic,
        )
        others = self.topics(self.rng.randint(1, 3))
        right = [
            {
                "text": f"{t.name[0].upper()}{t.name[1:]} {t.description}",
                "correct": True,
            }
            for t in others
        ]
        wrong = [
            {"text": claim} for claim in self.claims(self.rng.randint(2, 3), topic)
        ]
        choices = right + wrong
        self.rng.shuffle(choices)
        for choice in choices:
            self.feedback(choice, topic)
        question["choices"] = choices
        scoring = self.rng.choices(
            ["partial", "all_or_nothing", "right_minus_wrong"], [6, 3, 1]
        )[0]
        if scoring != "partial" or self.chance(0.3):
            question["scoring"] = scoring
        question["explanation"] = self.explanation(topic)
        return question

    def true_false(self, index: int) -> dict[str, Any]:
        topic = self.topic()
        question = self.header(index, "true_false", topic)
        if self.chance(0.5):
            statement, answer = f"{topic.name} {topic.description}.", True
        else:
            statement, answer = self.claims(1, topic)[0] + ".", False
        question["prompt"] = self.prompt(
            f"True or false? {statement[0].upper()}{statement[1:]}", topic=topic
        )
        question["answer"] = answer
        if self.chance(0.8):
            question["explanation"] = self.explanation(topic)
        return question

    def numeric(self, index: int) -> dict[str, Any]:
        topic = self.topic()
        question = self.header(index, "numeric", topic)
        build = self.rng.choice(NUMERIC_TEMPLATES)
        with_params = self.chance(PARAMS_SHARE)
        text, answer, tolerance, params = build(self, with_params)
        if params:
            question["params"] = params
        question["prompt"] = self.prompt(text, topic=topic)
        question["answer"] = answer
        if tolerance is not None:
            question["tolerance"] = tolerance
        question["explanation"] = self.explanation(topic)
        return question

    def text(self, index: int) -> dict[str, Any]:
        topic = self.topic()
        question = self.header(index, "text", topic)
        question["prompt"] = self.prompt(
            f"Name the method or idea that {topic.description}. It is often written "
            f"as ${topic.math}$. Give its usual name in a few words.",
            topic=topic,
        )
        question["accept"] = list(topic.answers)
        if self.chance(0.3):
            first = topic.answers[0].replace("-", "[- ]?").replace(" ", r"\s*")
            question["accept_regex"] = [f"(?i){first}s?"]
        if self.chance(0.05):
            question["case_sensitive"] = True
        question["explanation"] = self.explanation(topic)
        return question

    def blanks(self, index: int) -> dict[str, Any]:
        topic = self.topic()
        question = self.header(index, "blanks", topic)
        n = self.rng.choice([100, 200, 500, 1000])
        share = self.rng.choice([10, 20, 25])
        sentences = [
            f"The method that {topic.description} is called [[name]].",
            f"A data set of {n} rows with a {share}% test split leaves [[train]] rows "
            "for training.",
        ]
        blanks: dict[str, Any] = {
            "name": {"accept": Flow(topic.answers)},
            "train": FlowMap(answer=n - n * share // 100),
        }
        if self.chance(0.4):
            z = self.rng.choice([-2, -1, 0, 1, 2])
            sentences.append(
                f"With $z = {z}$, the sigmoid $\\sigma(z)$ is [[sig]] (three decimals)."
            )
            blanks["sig"] = FlowMap(answer=round(1 / (1 + math.exp(-z)), 3))
            blanks["sig"]["tolerance"] = 0.001
        question["prompt"] = self.prompt(" ".join(sentences), topic=topic)
        question["blanks"] = blanks
        question["explanation"] = self.explanation(topic)
        return question

    def ordering(self, index: int) -> dict[str, Any]:
        topic = self.topic()
        question = self.header(index, "ordering", topic)
        sequence = self.rng.choice(SEQUENCES)
        length = self.rng.randint(3, len(sequence))
        start = self.rng.randint(0, len(sequence) - length)
        question["prompt"] = self.prompt(
            "Put these steps in the order in which they happen, first step first, "
            f"for a model built for {self.rng.choice(CONTEXTS)}.",
            topic=topic,
        )
        question["items"] = sequence[start : start + length]
        if self.chance(0.5):
            question["scoring"] = "partial"
        question["explanation"] = self.explanation(topic)
        return question

    def matching(self, index: int) -> dict[str, Any]:
        topic = self.topic()
        question = self.header(index, "matching", topic)
        chosen = self.topics(self.rng.randint(3, 5) + 2)
        pairs, spare = chosen[:-2], chosen[-2:]
        question["prompt"] = self.prompt(
            "Match each method to what it does.", topic=topic
        )
        question["pairs"] = [
            {
                "left": t.name[0].upper() + t.name[1:],
                "right": t.description.capitalize(),
            }
            for t in pairs
        ]
        if self.chance(0.4):
            question["distractors"] = [
                t.description.capitalize()
                for t in spare[: self.rng.randint(1, len(spare))]
            ]
        question["explanation"] = self.explanation(topic)
        return question

    # --- the bank --------------------------------------------------------------

    def type_sequence(self, count: int) -> list[str]:
        """Exactly proportional counts of each type (largest remainder), shuffled."""
        total = sum(TYPE_WEIGHTS.values())
        shares = {k: count * w / total for k, w in TYPE_WEIGHTS.items()}
        counts = {k: int(v) for k, v in shares.items()}
        by_remainder = sorted(shares, key=lambda k: shares[k] - counts[k], reverse=True)
        for kind in by_remainder[: count - sum(counts.values())]:
            counts[kind] += 1
        kinds = [kind for kind, n in counts.items() for _ in range(n)]
        self.rng.shuffle(kinds)
        return kinds

    def bank(self, count: int) -> dict[str, Any]:
        builders: dict[str, Callable[[int], dict[str, Any]]] = {
            "single": self.single,
            "multiple": self.multiple,
            "true_false": self.true_false,
            "numeric": self.numeric,
            "text": self.text,
            "blanks": self.blanks,
            "ordering": self.ordering,
            "matching": self.matching,
        }
        questions = [
            builders[kind](i) for i, kind in enumerate(self.type_sequence(count))
        ]
        return {
            "bank": SLUG,
            "title": f"Generated benchmark bank ({count} questions)",
            "description": "Made by bench/generate_bank.py; not for candidates.\n",
            "module": "bench",
            "tags": Flow(["generated"]),
            "questions": questions,
        }


# --- numeric templates: (text, answer, tolerance, params) --------------------------

Numeric = tuple[str, Any, Any, dict[str, Any] | None]


def _dense_parameters(g: Generator, with_params: bool) -> Numeric:
    if with_params:
        params = {
            "n_in": FlowMap(randint=Flow([8, 512])),
            "n_out": FlowMap(choice=Flow([16, 32, 64, 128])),
        }
        text = (
            "A fully connected layer maps {{n_in}} inputs to {{n_out}} outputs and "
            "has one bias per output. How many trainable parameters does it have?"
        )
        return text, "n_in * n_out + n_out", None, params
    n_in, n_out = g.rng.randint(8, 512), g.rng.choice([16, 32, 64, 128])
    text = (
        f"A fully connected layer maps {n_in} inputs to {n_out} outputs and has one "
        "bias per output. How many trainable parameters does it have?"
    )
    return text, n_in * n_out + n_out, None, None


def _updates(g: Generator, with_params: bool) -> Numeric:
    if with_params:
        params = {
            "batches": FlowMap(randint=Flow([50, 400])),
            "b": FlowMap(choice=Flow([16, 32, 64])),
            "n": FlowMap(expr="batches * b"),
            "e": FlowMap(randint=Flow([2, 20])),
        }
        text = (
            "A model is trained on {{n}} examples with mini-batches of {{b}} for "
            "{{e}} epochs. How many times are the weights updated?"
        )
        return text, "n / b * e", None, params
    b = g.rng.choice([16, 32, 64])
    n, e = b * g.rng.randint(50, 400), g.rng.randint(2, 20)
    text = (
        f"A model is trained on {n} examples with mini-batches of {b} for {e} epochs. "
        "How many times are the weights updated?"
    )
    return text, n // b * e, None, None


def _accuracy(g: Generator, with_params: bool) -> Numeric:
    if with_params:
        params = {
            "tp": FlowMap(randint=Flow([20, 90])),
            "fn": FlowMap(randint=Flow([5, 30])),
            "fp": FlowMap(randint=Flow([5, 30])),
            "tn": FlowMap(randint=Flow([100, 400])),
        }
        text = (
            "A classifier has $TP = {{tp}}$, $FN = {{fn}}$, $FP = {{fp}}$ and "
            "$TN = {{tn}}$ on a test set. What is its accuracy, as a decimal?"
        )
        return text, "(tp + tn) / (tp + fn + fp + tn)", 0.01, params
    tp, fn = g.rng.randint(20, 90), g.rng.randint(5, 30)
    fp, tn = g.rng.randint(5, 30), g.rng.randint(100, 400)
    text = (
        f"A classifier has $TP = {tp}$, $FN = {fn}$, $FP = {fp}$ and $TN = {tn}$ on a "
        "test set. What is its accuracy, as a decimal?"
    )
    return text, round((tp + tn) / (tp + fn + fp + tn), 4), 0.01, None


def _conv_output(g: Generator, with_params: bool) -> Numeric:
    if with_params:
        params = {
            "w": FlowMap(choice=Flow([28, 32, 64, 128, 224])),
            "k": FlowMap(choice=Flow([3, 5, 7])),
            "p": FlowMap(randint=Flow([0, 3])),
        }
        text = (
            "A convolution with a ${{k}} \\times {{k}}$ kernel, stride 1 and padding "
            "{{p}} is applied to a ${{w}} \\times {{w}}$ image. What is the width of "
            "the output?"
        )
        return text, "w - k + 2 * p + 1", None, params
    w, k, p = (
        g.rng.choice([28, 32, 64, 128]),
        g.rng.choice([3, 5, 7]),
        g.rng.randint(0, 3),
    )
    text = (
        f"A convolution with a ${k} \\times {k}$ kernel, stride 1 and padding {p} is "
        f"applied to a ${w} \\times {w}$ image. What is the width of the output?"
    )
    return text, w - k + 2 * p + 1, None, None


def _sigmoid(g: Generator, with_params: bool) -> Numeric:
    if with_params:
        params = {"z": FlowMap(uniform=Flow([-3, 3]), round=2)}
        text = (
            "What is $\\sigma(z) = 1 / (1 + e^{-z})$ at $z = {{z}}$? "
            "Give three decimals."
        )
        return text, "1 / (1 + exp(-z))", 0.001, params
    z = round(g.rng.uniform(-3, 3), 2)
    text = (
        f"What is $\\sigma(z) = 1 / (1 + e^{{-z}})$ at $z = {z}$? Give three decimals."
    )
    return text, round(1 / (1 + math.exp(-z)), 3), 0.001, None


def _gradient_step(g: Generator, with_params: bool) -> Numeric:
    if with_params:
        params = {
            "w": FlowMap(uniform=Flow([-2, 2]), round=2),
            "eta": FlowMap(choice=Flow([0.01, 0.05, 0.1])),
            "grad": FlowMap(uniform=Flow([-5, 5]), round=1),
        }
        text = (
            "A weight $w = {{w}}$ has gradient $\\partial L / \\partial w = {{grad}}$. "
            "What is $w$ after one gradient-descent step with learning rate "
            "$\\eta = {{eta}}$?"
        )
        return text, "w - eta * grad", "1%", params
    w, eta = round(g.rng.uniform(-2, 2), 2), g.rng.choice([0.01, 0.05, 0.1])
    grad = round(g.rng.uniform(-5, 5), 1)
    text = (
        f"A weight $w = {w}$ has gradient $\\partial L / \\partial w = {grad}$. What "
        "is $w$ after one gradient-descent step with learning rate "
        f"$\\eta = {eta}$?"
    )
    return text, round(w - eta * grad, 4), "1%", None


NUMERIC_TEMPLATES = [
    _dense_parameters,
    _updates,
    _accuracy,
    _conv_output,
    _sigmoid,
    _gradient_step,
]


# --- assets ------------------------------------------------------------------------


def _svg() -> str:
    circles = []
    for units, x in ((3, 40), (4, 160), (2, 280)):
        for i in range(units):
            y = 40 + i * 60 + (4 - units) * 30
            circles.append(
                f'<circle cx="{x}" cy="{y}" r="18" fill="#dde" stroke="#333"/>'
            )
    body = "\n  ".join(circles)
    return (
        '<svg xmlns="http://www.w3.org/2000/svg" width="320" height="280" '
        'viewBox="0 0 320 280">\n'
        "  <title>A 3-4-2 network</title>\n"
        f"  {body}\n</svg>\n"
    )


def _png(width: int = 160, height: int = 100) -> bytes:
    """A grey-scale PNG of a falling loss curve, made without any imaging library."""
    rows = []
    for y in range(height):
        row = bytearray([0])  # filter: none
        for x in range(width):
            curve = int(height * 0.15 + height * 0.7 * math.exp(-x / (width / 4)))
            row.append(0 if abs(y - curve) <= 1 else 255 - (y * 40 // height))
        rows.append(bytes(row))

    def chunk(kind: bytes, data: bytes) -> bytes:
        crc = zlib.crc32(kind + data) & 0xFFFFFFFF
        return struct.pack(">I", len(data)) + kind + data + struct.pack(">I", crc)

    header = struct.pack(">IIBBBBB", width, height, 8, 0, 0, 0, 0)
    return (
        b"\x89PNG\r\n\x1a\n"
        + chunk(b"IHDR", header)
        + chunk(b"IDAT", zlib.compress(b"".join(rows), 9))
        + chunk(b"IEND", b"")
    )


def write_bank(
    out_dir: Path, questions: int = DEFAULT_QUESTIONS, seed: int = DEFAULT_SEED
) -> Path:
    """Write the bank and its assets under ``out_dir``; return the bank's folder."""
    folder = Path(out_dir) / SLUG
    (folder / "assets").mkdir(parents=True, exist_ok=True)
    (folder / ASSETS[0]).write_text(_svg(), encoding="utf-8")
    (folder / ASSETS[1]).write_bytes(_png())
    data = Generator(seed).bank(questions)
    text = yaml.dump(
        data,
        Dumper=_Dumper,
        sort_keys=False,
        allow_unicode=True,
        default_flow_style=False,
        width=100,
    )
    (folder / "bank.yaml").write_text(text, encoding="utf-8")
    return folder


def main(argv: list[str] | None = None) -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("out_dir", type=Path)
    parser.add_argument("--questions", type=int, default=DEFAULT_QUESTIONS)
    parser.add_argument("--seed", type=int, default=DEFAULT_SEED)
    args = parser.parse_args(argv)
    folder = write_bank(args.out_dir, args.questions, args.seed)
    size = (folder / "bank.yaml").stat().st_size
    print(f"Wrote {folder / 'bank.yaml'}: {args.questions} questions, {size:,} bytes")


if __name__ == "__main__":
    main()
