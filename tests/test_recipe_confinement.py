"""Recipe paths stay inside the data root: absolute paths, '..', and globs or symlinks that lead out are refused,
each with its key; a local user can opt out for their own files."""

import pytest

from dapt.recipe import RecipeError, check_paths, load_recipe
from tests.test_recipe import MINIMAL, write


@pytest.fixture
def root(tmp_path):
    """A small data root: a corpus file and the chemprot splits, and a secret file outside it."""
    data = tmp_path / "data"
    (data / "biomed_unlabelled" / "pubmedqa").mkdir(parents=True)
    (data / "biomed_unlabelled" / "pubmedqa" / "abstracts.txt").write_text("A domain sentence.\n")
    (data / "chemprot").mkdir()
    for split in ("train", "dev", "test"):
        (data / "chemprot" / f"{split}.txt").write_text('{"text": "x", "label": "y"}\n')
    (tmp_path / "secret").mkdir()
    (tmp_path / "secret" / "key.txt").write_text("do not read\n")
    return data


def recipe(tmp_path, **replace):
    text = MINIMAL
    for old, new in replace.items():
        text = text.replace(old, new)
    return load_recipe(write(tmp_path, text))


def test_paths_inside_pass(tmp_path, root):
    check_paths(recipe(tmp_path), root, "r.yaml")


@pytest.mark.parametrize(
    ("old", "new", "needle"),
    [
        ("biomed_unlabelled/pubmedqa/abstracts.txt", "SECRET", r"corpus.sources\[0\].path: '/.*' is an absolute path"),
        ("biomed_unlabelled/pubmedqa/abstracts.txt", "../secret/key.txt", "is a path with '..'"),
        ("chemprot/dev.txt", "../secret/key.txt", r"tasks\[0\].dev: '../secret/key.txt' is a path with '..'"),
    ],
)
def test_escaping_paths_are_refused_with_their_key(tmp_path, root, old, new, needle):
    new = new.replace("SECRET", str(tmp_path / "secret" / "key.txt"))
    r = recipe(tmp_path, **{old: new})
    with pytest.raises(RecipeError, match=needle) as e:
        check_paths(r, root, "r.yaml")
    assert "r.yaml" in str(e.value) and "--allow-outside-data-root" in str(e.value)
    # The owner of the files may opt out; the path is then only checked for existence.
    check_paths(r, root, "r.yaml", allow_outside_data_root=True)


def test_a_symlink_or_glob_leading_out_is_refused(tmp_path, root):
    (root / "biomed_unlabelled" / "linked").symlink_to(tmp_path / "secret")
    r = recipe(tmp_path, **{"biomed_unlabelled/pubmedqa/abstracts.txt": "biomed_unlabelled/linked"})
    with pytest.raises(RecipeError, match=r"1 file\(s\) resolve outside the data root, e.g. .*secret/key.txt"):
        check_paths(r, root, "r.yaml")
    source = "{name: c, path: biomed_unlabelled/pubmedqa/abstracts.txt}"
    r = recipe(tmp_path, **{source: "{name: c, path: biomed_unlabelled, glob: '../../secret/*'}"})
    with pytest.raises(RecipeError, match=r"corpus.sources\[0\].glob: '../../secret/\*' is a path with '..'"):
        check_paths(r, root, "r.yaml")
