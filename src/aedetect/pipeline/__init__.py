"""Use cases: what the CLI (and a future service) does, as library functions.

Each takes plain arguments (paths, a :class:`DataRequest`, a built detector)
and returns a plain result object; none prints or exits. The CLI parses its
options, calls one of these, and prints the result.
"""

from typing import TYPE_CHECKING

from aedetect._lazy import lazy_exports

if TYPE_CHECKING:
    from aedetect.pipeline.data import DataRequest
    from aedetect.pipeline.evaluation import Evaluation, evaluate
    from aedetect.pipeline.experimenting import ExperimentRun, experiment, experiment_parameters
    from aedetect.pipeline.explaining import ExplainResult, explain
    from aedetect.pipeline.model import FitResult, fit, open_model, scores_frame
    from aedetect.pipeline.modelinfo import ModelInfo, info
    from aedetect.pipeline.reporting import report
    from aedetect.pipeline.running import RunResult, run
    from aedetect.pipeline.scoring import score
    from aedetect.pipeline.streaming import StreamResult, score_chunks

__all__ = [
    "DataRequest",
    "Evaluation",
    "ExperimentRun",
    "ExplainResult",
    "FitResult",
    "ModelInfo",
    "RunResult",
    "StreamResult",
    "evaluate",
    "experiment",
    "experiment_parameters",
    "explain",
    "fit",
    "info",
    "open_model",
    "report",
    "run",
    "score",
    "score_chunks",
    "scores_frame",
]

# Imported on first use: ``aedetect info`` needs only :mod:`.modelinfo` (no torch).
__getattr__ = lazy_exports(
    __name__,
    {
        "DataRequest": "aedetect.pipeline.data",
        **dict.fromkeys(("Evaluation", "evaluate"), "aedetect.pipeline.evaluation"),
        **dict.fromkeys(
            ("ExperimentRun", "experiment", "experiment_parameters"),
            "aedetect.pipeline.experimenting",
        ),
        **dict.fromkeys(
            ("FitResult", "fit", "open_model", "scores_frame"), "aedetect.pipeline.model"
        ),
        **dict.fromkeys(("ModelInfo", "info"), "aedetect.pipeline.modelinfo"),
        "report": "aedetect.pipeline.reporting",
        **dict.fromkeys(("RunResult", "run"), "aedetect.pipeline.running"),
        **dict.fromkeys(("ExplainResult", "explain"), "aedetect.pipeline.explaining"),
        "score": "aedetect.pipeline.scoring",
        **dict.fromkeys(("StreamResult", "score_chunks"), "aedetect.pipeline.streaming"),
    },
)
