"""Atlassian Document Format (ADF) bodies, and their HTML rendering for `renderedFields`.

REST v3 carries rich text (descriptions, comment and worklog bodies) as ADF:
`{"type": "doc", "version": 1, "content": [...]}`. The emulator stores plain text with a
light markup (blank line = new paragraph, `*bold*`, `` `code` ``, `@accountId` mentions)
and builds the document on the way out.
"""

from __future__ import annotations

import html
import re
from typing import Any

_INLINE = re.compile(r"(\*[^*\n]+\*|`[^`\n]+`|@\[[^\]\n]+\])")


def _inline_nodes(line: str) -> list[dict[str, Any]]:
    nodes: list[dict[str, Any]] = []
    for piece in _INLINE.split(line):
        if not piece:
            continue
        if piece.startswith("*") and piece.endswith("*") and len(piece) > 2:
            nodes.append({"type": "text", "text": piece[1:-1], "marks": [{"type": "strong"}]})
        elif piece.startswith("`") and piece.endswith("`") and len(piece) > 2:
            nodes.append({"type": "text", "text": piece[1:-1], "marks": [{"type": "code"}]})
        elif piece.startswith("@[") and piece.endswith("]"):
            account_id = piece[2:-1]
            nodes.append({"type": "mention", "attrs": {"id": account_id, "text": f"@{account_id}"}})
        else:
            nodes.append({"type": "text", "text": piece})
    return nodes


def document(text: str) -> dict[str, Any]:
    paragraphs = [p for p in text.split("\n\n") if p.strip()]
    content: list[dict[str, Any]] = []
    for paragraph in paragraphs:
        if paragraph.startswith("- "):
            items = [line[2:] for line in paragraph.splitlines() if line.startswith("- ")]
            content.append(
                {
                    "type": "bulletList",
                    "content": [
                        {
                            "type": "listItem",
                            "content": [{"type": "paragraph", "content": _inline_nodes(item)}],
                        }
                        for item in items
                    ],
                }
            )
        else:
            content.append({"type": "paragraph", "content": _inline_nodes(paragraph)})
    return {"type": "doc", "version": 1, "content": content}


def _inline_html(line: str) -> str:
    out: list[str] = []
    for node in _inline_nodes(line):
        if node["type"] == "mention":
            out.append(
                f'<a class="user-hover" rel="{html.escape(node["attrs"]["id"])}">'
                f"{html.escape(node['attrs']['text'])}</a>"
            )
            continue
        text = html.escape(node["text"])
        marks = {m["type"] for m in node.get("marks", [])}
        if "strong" in marks:
            text = f"<b>{text}</b>"
        if "code" in marks:
            text = f"<tt>{text}</tt>"
        out.append(text)
    return "".join(out)


def render_html(text: str) -> str:
    blocks: list[str] = []
    for paragraph in (p for p in text.split("\n\n") if p.strip()):
        if paragraph.startswith("- "):
            items = "".join(
                f"<li>{_inline_html(line[2:])}</li>"
                for line in paragraph.splitlines()
                if line.startswith("- ")
            )
            blocks.append(f'<ul class="alternate" type="disc">{items}</ul>')
        else:
            blocks.append(f"<p>{_inline_html(paragraph)}</p>")
    return "\n\n".join(blocks)
