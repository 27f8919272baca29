"""The cooperative's synonyms for search (#26.2): words buyers type and the catalogue's words for them."""

from __future__ import annotations

from flask import abort, redirect, render_template, request, url_for
from flask_babel import gettext as _
from flask_babel import lazy_gettext as _l
from flask_login import current_user, login_required
from sqlalchemy import select
from werkzeug.wrappers import Response

from shop.accounts import register_staff_link
from shop.accounts.decorators import role_required
from shop.accounts.models import Role
from shop.catalog import catalog, search
from shop.catalog.models import SearchSynonym
from shop.extensions import db
from shop.web import commit_or_refuse, problem

EDITORS = (Role.ADMIN, Role.FULFILMENT)
register_staff_link("catalog.synonyms", _l("Search synonyms"), *EDITORS)
PROBLEMS = {
    "term": _l("The word buyers type: one word, at most 60 letters."),
    "means": _l("The catalogue's word(s) for it: at most 120 letters."),
    "same": _l("The two words are the same."),
    "exists": _l("That word already has a synonym: remove it first to change it."),
}


@catalog.get("/staf/sinonim")
@login_required
@role_required(*EDITORS)
def synonyms() -> str:
    return render_template("catalog/synonyms.html", typed={},
                           synonyms=db.session.scalars(select(SearchSynonym).order_by(SearchSynonym.term)).all())


@catalog.post("/staf/sinonim")
@login_required
@role_required(*EDITORS)
def add_synonym() -> Response | str:
    term, means = request.form.get("term", "")[:200], request.form.get("means", "")[:400]
    done = commit_or_refuse(lambda: search.add_synonym(term, means, actor=current_user),
                            {search.SynonymInvalid: problem(PROBLEMS)}, _("Synonym added: search uses it now."))
    if done is None:  # what was typed stays in the form
        return render_template("catalog/synonyms.html", typed={"term": term, "means": means},
                               synonyms=db.session.scalars(select(SearchSynonym).order_by(SearchSynonym.term)).all())
    return redirect(url_for("catalog.synonyms"))


@catalog.post("/staf/sinonim/<int:synonym_id>/hapus")
@login_required
@role_required(*EDITORS)
def remove_synonym(synonym_id: int) -> Response:
    synonym = db.session.get(SearchSynonym, synonym_id)
    if synonym is None:
        abort(404)
    commit_or_refuse(lambda: search.remove_synonym(synonym, actor=current_user), {}, _("Synonym removed."))
    return redirect(url_for("catalog.synonyms"))
