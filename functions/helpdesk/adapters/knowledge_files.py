"""Loads knowledge-base articles from the workspace: ``knowledge/<id>.yaml``, one article per file.

Errors name the file, the field and the problem, like the rest of the workspace configuration, e.g.
``workspace/demo/knowledge/gift-cards.yaml: title: Field required``. A workspace without a
``knowledge/`` directory simply has no articles.
"""

from __future__ import annotations

from pathlib import Path

from helpdesk.adapters.yaml_files import WorkspaceConfigError, check_named_after_file, read_model
from helpdesk.domain.knowledge import Article


def load_articles(directory: str | Path) -> tuple[Article, ...]:
    """Every ``*.yaml`` article in ``directory`` (the workspace's ``knowledge/``), sorted by id."""
    root = Path(directory)
    if not root.exists():
        return ()
    if not root.is_dir():
        raise WorkspaceConfigError(f"{root}: must be a directory of <id>.yaml articles")
    articles = []
    for path in sorted(root.glob("*.yaml")):
        article = read_model(path, Article)
        check_named_after_file(path, "id", article.id)
        articles.append(article)
    return tuple(articles)
