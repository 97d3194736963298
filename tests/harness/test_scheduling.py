"""The run-alone rule (harness.scheduling): run-alone scenarios come last, and a DRC turn held
alone keeps every other turn on that DRC waiting, in other threads and other processes alike.
Call-back scenarios (kic-001, verzoekinformatieobject writes) take their turns one at a time
while ordinary scenarios keep sharing the DRC with them.

The pauses below only give a broken lock the chance to let a waiter in early; no assertion is
about time, only about the order things happened in.
"""

from __future__ import annotations

import subprocess
import sys
import threading
import time
from pathlib import Path
from types import SimpleNamespace

from harness.scheduling import DrcTurns, calls_back, in_run_order, split

DRC = "http://127.0.0.1:8999"


def scenario(
    id_: str, alone: bool = False, rule: str = "oas:klant_list", ops=()
) -> SimpleNamespace:
    return SimpleNamespace(id=id_, needs_exclusive_drc=alone, rule=rule, operations=list(ops))


SHARED = scenario("shared")
ALONE = scenario("alone", alone=True)
KIC_001 = scenario("kic-001", rule="kic-001", ops=["verzoek_create"])
VIO_CREATE = scenario("vio", ops=["verzoek_create", "verzoekinformatieobject_create"])
PAUSE = 0.3


def test_run_alone_scenarios_come_last_in_their_own_order() -> None:
    a, b, c = scenario("a", alone=True), scenario("b"), scenario("c", alone=True)
    assert [s.id for s in in_run_order([a, b, c])] == ["b", "a", "c"]
    assert [[s.id for s in part] for part in split([a, b, c])] == [["b"], ["a", "c"]]


def _take(turns: DrcTurns, scenario: SimpleNamespace, events: list[str]) -> threading.Thread:
    def take() -> None:
        with turns.turn(scenario):
            events.append(f"{scenario.id} in")

    thread = threading.Thread(target=take)
    thread.start()
    return thread


def test_an_alone_turn_keeps_shared_turns_waiting_and_shared_turns_share(tmp_path: Path) -> None:
    turns, events = DrcTurns(DRC, tmp_path), []
    with turns.turn(SHARED), turns.turn(SHARED):  # the second shared turn does not wait
        events.append("two shared at once")
    with turns.turn(ALONE):
        waiting = _take(turns, SHARED, events)
        time.sleep(PAUSE)
        events.append("alone out")
    waiting.join()
    with turns.turn(SHARED):
        waiting = _take(turns, ALONE, events)
        time.sleep(PAUSE)
        events.append("shared out")
    waiting.join()
    assert events == ["two shared at once", "alone out", "shared in", "shared out", "alone in"]
    assert list(tmp_path.iterdir()) == []  # the last one out removes the lock file


CHILD = """
import sys
from types import SimpleNamespace
from harness.scheduling import DrcTurns
with DrcTurns(sys.argv[1], __import__("pathlib").Path(sys.argv[2])).turn(
        SimpleNamespace(needs_exclusive_drc=True, rule="kic-001", operations=[])):
    print("held", flush=True)
    sys.stdin.readline()
"""


def test_the_rule_holds_between_processes_sharing_a_drc(tmp_path: Path) -> None:
    child = subprocess.Popen(
        [sys.executable, "-c", CHILD, DRC, str(tmp_path)],
        stdin=subprocess.PIPE,
        stdout=subprocess.PIPE,
        text=True,
    )
    events: list[str] = []
    try:
        assert child.stdout.readline().strip() == "held"
        waiting = _take(DrcTurns(DRC, tmp_path), SHARED, events)
        time.sleep(PAUSE)
        events.append("other process out")
        child.stdin.write("\n")
        child.stdin.flush()
        waiting.join()
    finally:
        child.stdin.close()
        child.wait()
    assert events == ["other process out", "shared in"]


def test_without_a_drc_there_is_nothing_to_wait_for(tmp_path: Path) -> None:
    turns = DrcTurns(None, tmp_path)
    with turns.turn(ALONE), turns.turn(ALONE):
        pass
    assert turns.path is None


def test_call_back_scenarios_are_kic_001_and_verzoekinformatieobject_writes() -> None:
    assert calls_back(KIC_001) and calls_back(VIO_CREATE)
    assert not calls_back(SHARED)
    assert not calls_back(scenario("vio-list", ops=["verzoekinformatieobject_list"]))


def test_call_back_scenarios_take_turns_one_at_a_time_beside_shared_ones(tmp_path: Path) -> None:
    turns, events = DrcTurns(DRC, tmp_path), []
    with turns.turn(KIC_001):
        waiting = _take(turns, VIO_CREATE, events)
        with turns.turn(SHARED):  # an ordinary scenario does not wait for a call-back one
            events.append("shared beside kic-001")
        time.sleep(PAUSE)
        events.append("kic-001 out")
    waiting.join()
    assert events == ["shared beside kic-001", "kic-001 out", "vio in"]
    assert list(tmp_path.iterdir()) == []
