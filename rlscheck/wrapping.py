"""Greedy word wrapping for plain paragraphs (help text, notes under the tables): far cheaper
than Rich's cell-by-cell wrapping, and than importing textwrap, whose patterns are compiled
at import."""


def fill(paragraph, width, first="", rest=""):
    """Words wrapped greedily into lines of at most `width` characters, after `first` on the
    first line and `rest` on the others (a word longer than a line is split). Runs of spaces
    between words on a line are kept, as textwrap keeps them."""
    lines, line, empty = [], first, True
    for word, gap in _words(paragraph):
        if not empty and len(line) + gap + len(word) > width:
            lines.append(line)
            line, empty = rest, True
        if not empty:
            line += " " * gap
        while len(line) + len(word) > width:
            room = width - len(line)
            lines.append(line + word[:room])
            line, word = rest, word[room:]
        line, empty = line + word, False
    lines.append(line)
    return "\n".join(lines)


def _words(paragraph):
    """(word, spaces before it) for each word."""
    gap = 1
    for piece in paragraph.split(" "):
        if not piece:
            gap += 1
            continue
        for index, word in enumerate(piece.split()):  # tabs and line breaks separate words too
            yield word, gap if index == 0 else 1
        gap = 1


def fill_paragraphs(text, width, indent=""):
    """Text wrapped paragraph by paragraph, as click lays out help: paragraphs are separated by
    blank lines and keep their own indentation; a paragraph whose first line is a lone \\b
    keeps its lines as written."""
    paragraphs = []
    for block in text.split("\n\n"):
        lines = block.splitlines()
        if not any(line.strip() for line in lines):
            continue
        extra = " " * (len(lines[0]) - len(lines[0].lstrip()))
        if lines[0].strip() == "\b":
            paragraphs.append("\n".join(indent + extra + line.rstrip() for line in lines[1:]))
        else:
            paragraphs.append(fill(" ".join(lines), width, indent + extra, indent + extra))
    return "\n\n".join(paragraphs)
