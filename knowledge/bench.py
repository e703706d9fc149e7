"""``python -m knowledge.bench``: how fast answers are, how fast an edit is live, vs retraining Rasa.

* retrieval latency: one search per evaluation question (question embedding included);
* edit-to-live latency: publish an edit through the repository, then ask the REAL action
  server (a separate process started as ``make run`` starts it) until its answer shows
  the edit; measured from the commit to the first answer that has it;
* ``rasa train`` on the current NLU data into a temporary folder, in the same run, so the
  ratio compares like with like on this machine (``--skip-train`` leaves it out).

Everything runs on a scratch SQLite database loaded from the seed, on free local ports.
"""

from __future__ import annotations

import argparse
import json
import os
import socket
import statistics
import subprocess
import sys
import tempfile
import time
from dataclasses import replace
from pathlib import Path
from urllib.request import Request, urlopen

from helpline import migrate, services
from helpline.db import make_engine, make_session_factory, transaction
from helpline.embeddings import load_encoder
from helpline.rasa_model import NLU_DIR, RASA_BIN, RASA_ENV
from helpline.settings import REPO_ROOT, load_settings
from knowledge import repository
from knowledge.evaluate import load_questions
from knowledge.retrieval import Retriever

EDITED_ENTRY = "medical-free-annual-checkup"
QUESTION = "有免费体检吗"
"""One of the entry's own example questions: always answered with that entry."""


def _free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return sock.getsockname()[1]


def percentiles(samples: list[float]) -> tuple[float, float]:
    """p50 and p95 in milliseconds."""
    ordered = sorted(samples)
    p95 = ordered[min(len(ordered) - 1, round(0.95 * (len(ordered) - 1)))]
    return statistics.median(ordered) * 1000, p95 * 1000


def retrieval_latency(url: str) -> list[float]:
    settings = load_settings()
    retriever = Retriever(make_session_factory(make_engine(url)), load_encoder(settings.embedding_model, 1))
    questions = [q.text for q in load_questions()]
    retriever.search(questions[0])  # builds the index and warms the model up
    samples = []
    for question in questions:
        start = time.perf_counter()
        retriever.search(question)
        samples.append(time.perf_counter() - start)
    return samples


def _ask_action_server(action_url: str, text: str) -> str:
    """One call of action_answer_policy, exactly as Rasa makes it."""
    tracker = {
        "sender_id": "bench",
        "slots": {"kb_entry": None, "kb_last_entry": None},
        "latest_message": {"text": text, "intent": {"name": "ask_policy"}},
        "events": [],
        "paused": False,
        "followup_action": None,
        "active_loop": {},
        "latest_action_name": "action_listen",
    }
    body = {"next_action": "action_answer_policy", "sender_id": "bench", "tracker": tracker, "domain": {}}
    request = Request(
        f"{action_url}/webhook",
        json.dumps(body).encode(),
        {"Content-Type": "application/json"},
        method="POST",
    )
    with urlopen(request, timeout=60) as response:
        reply = json.load(response)
    return "\n".join(item.get("text") or "" for item in reply.get("responses", []))


def edit_to_live(url: str, workdir: Path, rounds: int) -> list[float]:
    settings = replace(
        load_settings(), database_url=url, action_server_url=f"http://127.0.0.1:{_free_port()}"
    )
    full = services.action_service(settings)
    # The same server and command as `make run`, loading only the action measured here.
    command = [("actions.policy" if part == "actions" else part) for part in full.command]
    service = replace(full, command=command)
    process = services.start(service, workdir / "logs")
    sessions = make_session_factory(make_engine(url))
    try:
        services.wait_ready(service, process, timeout=600)  # /ready: model loaded, index built
        samples = []
        for round_number in range(rounds):
            marker = f"【第{round_number + 1}次修改】"
            with transaction(sessions) as session:
                answer = repository.get_entry(session, EDITED_ENTRY).answer.split("】")[-1]
                repository.edit_entry(session, EDITED_ENTRY, {"answer": marker + answer}, "bench")
                repository.publish(session, EDITED_ENTRY, "bench")
            committed = time.perf_counter()
            while marker not in _ask_action_server(settings.action_server_url, QUESTION):
                if time.perf_counter() - committed > 30:
                    raise TimeoutError("the edit did not reach the action server within 30 s")
            samples.append(time.perf_counter() - committed)
        return samples
    finally:
        services.stop(process)


def rasa_train_seconds(workdir: Path) -> float:
    """A full ``rasa train``, with an empty training cache of its own.

    Rasa reuses every component whose data did not change from ``.rasa/cache``; a policy
    question handled by a new intent or new examples would retrain DIET, so reusing the
    cache would time a retraining that never happens.
    """
    command = [
        str(RASA_BIN), "train",
        "--config", str(NLU_DIR / "config.yml"),
        "--domain", str(NLU_DIR / "domain"),
        "--data", str(NLU_DIR / "data"),
        "--out", str(workdir / "models"),
        "--fixed-model-name", "bench",
    ]  # fmt: skip
    start = time.perf_counter()
    subprocess.run(
        command,
        check=True,
        cwd=REPO_ROOT,
        env={**os.environ, **RASA_ENV, "RASA_CACHE_DIRECTORY": str(workdir / "rasa-cache")},
        stdout=subprocess.DEVNULL,
    )
    return time.perf_counter() - start


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(
        prog="python -m knowledge.bench", description="知识库性能 / KB benchmark"
    )
    parser.add_argument("--rounds", type=int, default=20, help="edits to measure (default 20)")
    parser.add_argument("--skip-train", action="store_true", help="do not time rasa train (no ratio then)")
    args = parser.parse_args(argv)
    with tempfile.TemporaryDirectory() as folder:
        workdir = Path(folder)
        url = f"sqlite:///{workdir / 'bench.db'}"
        migrate.upgrade(url)
        repository.load_seed_into(url)
        p50, p95 = percentiles(retrieval_latency(url))
        print(f"检索延迟 retrieval latency: p50 {p50:.1f} ms, p95 {p95:.1f} ms（评测集每题一次）")
        live_p50, live_p95 = percentiles(edit_to_live(url, workdir, args.rounds))
        print(f"修改到生效 edit-to-live（真实 action server）: p50 {live_p50:.1f} ms, p95 {live_p95:.1f} ms")
        if args.skip_train:
            print("未计时 rasa train（--skip-train），不计算倍数 / rasa train not timed, no ratio")
            return 0
        train = rasa_train_seconds(workdir)
        print(f"重新训练 Rasa rasa train: {train:.1f} s")
        print(f"倍数 ratio: 修改生效比重新训练快 {train * 1000 / live_p95:.0f} 倍（按 p95；目标 ≥ 50）")
    return 0


if __name__ == "__main__":
    sys.exit(main())
