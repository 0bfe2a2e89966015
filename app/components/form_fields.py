"""Form fields that explain themselves: typed text checked by :mod:`app.services.form_check`, the
reason shown right under the field, and every reason collected so Start can say why it did nothing."""

from __future__ import annotations

from typing import Any, Callable

import streamlit as st

from app.services.form_check import parse_float, parse_int


class FieldErrors:
    """The reasons of the invalid fields of one form run, in form order."""

    def __init__(self) -> None:
        self.messages: list[str] = []

    def show(self, where: Any, error: str | None) -> None:
        """Show ``error`` under the field just drawn in ``where`` (a column or the page) and keep it."""
        if error:
            where.error(error, icon=":material/error:")
            self.messages.append(error)

    def checked(self, where: Any, result: tuple) -> Any:
        value, error = result
        self.show(where, error)
        return value


def text_field(where: Any, errors: FieldErrors, label: str, key: str, default: str,
               check: Callable[[str], tuple], help: str | None = None) -> Any:
    """A text input whose value goes through ``check`` (``text -> (value, error)``)."""
    text = where.text_input(label, str(default), key=key, help=help)
    return errors.checked(where, check(text))


def number_field(where: Any, errors: FieldErrors, label: str, key: str, default: int | float,
                 lo: int | float, hi: int | float, help: str | None = None) -> Any:
    """A number typed as text: a whole number when ``default`` is an int, else a float; in
    ``[lo, hi]``. Returns None (and shows why) when the text is not such a number."""
    integer = isinstance(default, int)
    hint = f"{'a whole number' if integer else 'a number'} from {lo:g} to {hi:g}"
    text = where.text_input(label, str(default), key=key, help=f"{help}; {hint}" if help else hint)
    parse = parse_int if integer else parse_float
    return errors.checked(where, parse(text, label, lo, hi))


def refuse(errors: FieldErrors) -> None:
    """Say why Start did nothing."""
    n = len(errors.messages)
    st.error(f"Nothing was started: {n} field{'s' if n > 1 else ''} need{'' if n > 1 else 's'} fixing (see the "
             "red notes above). " + " ".join(errors.messages))
