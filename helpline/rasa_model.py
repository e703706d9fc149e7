"""Train the Rasa model only when its inputs changed, and name it by their hash.

Naming the model by the hash of config, domain and training data makes
"retrain only when the data changed" a file-exists check, and gives ``rasa run``
an exact path: Rasa given a missing path silently loads another model.
"""

from __future__ import annotations

import hashlib
import os
import subprocess
import sys
from pathlib import Path

from helpline.settings import REPO_ROOT

NLU_DIR = REPO_ROOT / "nlu"
MODELS_DIR = NLU_DIR / "models"
RASA_BIN = REPO_ROOT / ".venv-rasa" / "bin" / "rasa"


def training_inputs() -> list[Path]:
    """Every file whose content changes the trained model, in a stable order."""
    files = [NLU_DIR / "config.yml", *sorted((NLU_DIR / "domain").rglob("*.yml"))]
    return files + sorted((NLU_DIR / "data").rglob("*.yml"))


def training_hash() -> str:
    digest = hashlib.sha256()
    for path in training_inputs():
        digest.update(str(path.relative_to(REPO_ROOT)).encode())
        digest.update(path.read_bytes())
    return digest.hexdigest()[:16]


def model_path() -> Path:
    return MODELS_DIR / f"helpline-{training_hash()}.tar.gz"


RASA_ENV = {"RASA_TELEMETRY_ENABLED": "false", "TF_CPP_MIN_LOG_LEVEL": "2"}
"""Set for every Rasa process: no telemetry, quiet TensorFlow."""


def ensure_trained() -> Path:
    """Return the model for the current data, training it first if it does not exist."""
    target = model_path()
    if target.exists():
        print(f"Rasa 模型已是最新：{target.relative_to(REPO_ROOT)}", flush=True)
        return target
    print("训练数据有变化，正在训练 Rasa 模型（约几分钟）…", flush=True)
    command = [
        str(RASA_BIN), "train",
        "--config", str(NLU_DIR / "config.yml"),
        "--domain", str(NLU_DIR / "domain"),
        "--data", str(NLU_DIR / "data"),
        "--out", str(MODELS_DIR),
        "--fixed-model-name", target.name.removesuffix(".tar.gz"),
    ]  # fmt: skip
    subprocess.run(command, check=True, cwd=REPO_ROOT, env={**os.environ, **RASA_ENV})
    if not target.exists():
        raise RuntimeError(f"rasa train finished but {target} is missing")
    return target


if __name__ == "__main__":
    print(ensure_trained() if sys.argv[1:] != ["path"] else model_path())
