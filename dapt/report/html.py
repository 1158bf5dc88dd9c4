"""``report.html``: the Markdown report as one self-contained page (figures embedded as data URIs), so it can be
mailed, attached to a ticket or opened from an artifact store without its folder."""

from __future__ import annotations

import base64
import re
from pathlib import Path

_STYLE = """
body { font: 15px/1.5 -apple-system, "Segoe UI", Helvetica, Arial, sans-serif; max-width: 1100px; margin: 2em auto;
       padding: 0 1em; color: #222; }
table { border-collapse: collapse; margin: 0.8em 0; font-size: 13px; }
th, td { border: 1px solid #ccc; padding: 3px 8px; }
th { background: #f3f3f3; }
td { text-align: right; } td:first-child, td:nth-child(2) { text-align: left; }
img { max-width: 100%; border: 1px solid #eee; margin: 0.5em 0; }
code { background: #f5f5f5; padding: 0 3px; }
"""


def render_html(markdown_text: str, base_dir: Path, title: str) -> str:
    import markdown

    body = markdown.markdown(markdown_text, extensions=["tables"])

    def inline(m: re.Match) -> str:
        src = m.group(1)
        path = base_dir / src
        if not path.is_file():
            raise FileNotFoundError(f"report.md references {src}, which does not exist under {base_dir}")
        data = base64.b64encode(path.read_bytes()).decode()
        return f'src="data:image/png;base64,{data}"'

    body = re.sub(r'src="([^"]+\.png)"', inline, body)
    return (
        f"<!doctype html>\n<html><head><meta charset='utf-8'><title>{title}</title><style>{_STYLE}</style></head>"
        f"<body>\n{body}\n</body></html>\n"
    )
