"""One parser per raw format the collector archives. Each raises ParseError on bad input."""


class ParseError(ValueError):
    """A raw file that cannot be read as what it should be; the message says what is wrong."""
