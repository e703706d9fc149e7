"""``make run``: prepare what is missing, start all three processes, keep them running, stop on Ctrl-C.

``--prepare-only`` stops after the set-up (``make setup``, which ``make test`` uses).
"""

from __future__ import annotations

import signal
import subprocess
import sys
import time
from pathlib import Path
from types import FrameType

from handoff.classifier import prepare_classifier
from handoff.risk import DEFAULT_LEXICON_PATH, Lexicon
from helpline import migrate, services
from helpline.e5_rebuild import ensure_model
from helpline.rasa_model import ensure_trained
from helpline.settings import DEFAULT_MODEL_DIR, VAR_DIR, Settings, load_settings
from knowledge.repository import load_seed_into
from knowledge.retrieval import retriever_for

READY_TIMEOUT = 180.0


class LexiconBroken(SystemExit):
    """The crisis lexicon does not load: nothing starts without its screen."""


def check_lexicon() -> None:
    """Stop set-up with a clear message when the lexicon does not load (after a staff edit)."""
    try:
        Lexicon.load(DEFAULT_LEXICON_PATH)
    except Exception as error:
        raise LexiconBroken(
            f"危机词表 {DEFAULT_LEXICON_PATH} 无法加载，助手不会在没有危机筛查的情况下启动：\n{error}\n"
            "请改好后用 .venv/bin/helpline lexicon check 检查。"
        ) from error


def prepare(settings: Settings) -> Path:
    """Idempotent set-up of everything the services need; returns the Rasa model to serve."""
    check_lexicon()
    print("[1/3] 检查向量模型…", flush=True)
    if settings.embedding_model == str(DEFAULT_MODEL_DIR):
        ensure_model(DEFAULT_MODEL_DIR)
    print("      检查风险分类器（第一次要训练，约两分钟）…", flush=True)
    prepare_classifier(settings)
    print("[2/3] 更新数据库结构…", flush=True)
    migrate.upgrade(settings.database_url)
    if load_seed_into(settings.database_url):
        print("      政策知识库为空，已从 knowledge/seed/ 载入。", flush=True)
    print("      准备政策知识库的检索索引…", flush=True)
    retriever_for(settings).index()
    print("[3/3] 检查 Rasa 模型…", flush=True)
    return ensure_trained()


def main() -> int:
    settings = load_settings()
    if sys.argv[1:] == ["--prepare-only"]:
        prepare(settings)
        return 0
    # The set-up loads models this supervisor must not keep in memory while the services run.
    prepared = subprocess.run([sys.executable, "-m", "helpline.run", "--prepare-only"])
    if prepared.returncode != 0:
        return prepared.returncode
    plan = [services.named(settings, name) for name in services.SERVICE_NAMES]
    supervisor = services.Supervisor(VAR_DIR / "logs")

    def shutdown(_signum: int, _frame: FrameType | None) -> None:
        raise KeyboardInterrupt

    signal.signal(signal.SIGTERM, shutdown)
    try:
        for service in plan:
            print(f"启动 {service.name} …", flush=True)
            supervisor.start(service)
        for child in supervisor.children:
            services.wait_ready(child.service, child.process, READY_TIMEOUT)
        print(f"\n助手已启动：http://{settings.host}:{settings.port}/webhooks/rest/webhook", flush=True)
        print("日志在 var/logs/；按 Ctrl-C 停止。", flush=True)
        while True:
            supervisor.tend()
            time.sleep(0.5)
    except KeyboardInterrupt:
        print("\n正在停止…", flush=True)
        return 0
    finally:
        supervisor.stop_all()


if __name__ == "__main__":
    sys.exit(main())
