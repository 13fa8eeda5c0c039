from __future__ import annotations

from pathlib import Path

import pytest

from pipeline.config import Config
from pipeline.filter.judge import FilterCore
from pipeline.text.engines import ENGINES
from pipeline.text.matcher import Matcher
from pipeline.text.wordlists import load_wordlists

ROOT = Path(__file__).resolve().parents[2]


@pytest.fixture(scope="session", params=sorted(ENGINES))
def engine(request: pytest.FixtureRequest) -> str:
    """Every matching engine: each must pass the same tests."""
    name: str = request.param
    return name


@pytest.fixture(scope="session")
def default_core(engine: str) -> FilterCore:
    """The filter core with the shipped wordlists and default policy."""
    return FilterCore(Matcher(load_wordlists(ROOT / "wordlists"), engine), Config())


def write_list(directory: Path, name: str, body: str) -> Path:
    """Write a TSV list with a standard header."""
    directory.mkdir(parents=True, exist_ok=True)
    path = directory / name
    path.write_text("term\tmode\tcategory\tsites\tpriority\n" + body, encoding="utf-8")
    return path
