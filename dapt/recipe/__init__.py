"""One typed, validated config per run: the recipe.

A recipe is a YAML file (loaded with ``yaml.safe_load``: no arbitrary objects) parsed into :class:`Recipe`.
Every model forbids unknown keys and uses strict types, so a typo or a wrong type fails *before* any work starts,
with the key path and the recipe file in the message. Paths in a recipe are relative to the data root
(``--data-dir`` or ``DAPT_DATA_DIR``); :func:`check_paths` verifies every one exists up front.

:mod:`.base` (types, strict base, loader, error), :mod:`.corpus`, :mod:`.training` (pretrain, task, tapt,
finetune, learning curve), :mod:`.engine` (where parallel work
runs), :mod:`.schema` (the recipe), :mod:`.loading` (find, load, override, check paths).
"""

from dapt.recipe.base import RECIPES_DIR, TASK_VARIANTS, Metric, RecipeError, Variant
from dapt.recipe.corpus import CorpusConfig, CorpusSource, DecontaminationConfig, DedupConfig, QualityConfig
from dapt.recipe.engine import EngineConfig
from dapt.recipe.loading import (
    apply_overrides,
    check_paths,
    list_recipes,
    load_recipe,
    parse_overrides,
    resolve_data_dir,
    resolve_recipe_path,
    source_files,
)
from dapt.recipe.schema import Recipe
from dapt.recipe.training import (
    FinetuneConfig,
    LearningCurveConfig,
    PretrainConfig,
    ScratchConfig,
    TaptConfig,
    TaskConfig,
)
from dapt.recipe.transfer import PromptConfig, TransferConfig, TransferMode

__all__ = [
    "RECIPES_DIR",
    "TASK_VARIANTS",
    "CorpusConfig",
    "CorpusSource",
    "DecontaminationConfig",
    "DedupConfig",
    "EngineConfig",
    "FinetuneConfig",
    "LearningCurveConfig",
    "Metric",
    "PretrainConfig",
    "PromptConfig",
    "QualityConfig",
    "Recipe",
    "RecipeError",
    "ScratchConfig",
    "TaptConfig",
    "TaskConfig",
    "TransferConfig",
    "TransferMode",
    "Variant",
    "apply_overrides",
    "check_paths",
    "list_recipes",
    "load_recipe",
    "parse_overrides",
    "resolve_data_dir",
    "resolve_recipe_path",
    "source_files",
]
