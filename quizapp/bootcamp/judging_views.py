"""Judging pages: the judges' list of projects to score, a project module's
participants, the rubric form of one participant; and the organiser's page of
every score with the publish button."""

from __future__ import annotations

from flask import abort, flash, redirect, render_template, request, url_for
from flask_login import current_user

from quizapp.banks.models import Programme, ProgrammeModule
from quizapp.bootcamp import bp, cohort, judging, progress
from quizapp.bootcamp.access import JUDGES, ORGANISERS
from quizapp.bootcamp.judging_forms import PublishForm, review_form
from quizapp.core.auth import role_required
from quizapp.core.errors import DomainError, form_status, pour_onto
from quizapp.extensions import db
from quizapp.programmes.access import programme_or_404


def _project_or_404(
    programme_slug: str, module_slug: str
) -> tuple[Programme, ProgrammeModule]:
    """:raise 404: unknown programme, or no project module of that slug in it."""
    programme = programme_or_404(programme_slug)
    module = progress.project_module(programme, module_slug)
    if module is None:
        abort(404)
    return programme, module


@bp.get("/judging")
@role_required(*JUDGES)
def judge_projects():
    """Programmes with a project module, and how many of each cohort you scored."""
    return render_template(
        "bootcamp/judging/index.html", overview=judging.overview(current_user)
    )


@bp.get("/judging/<programme_slug>/<module_slug>")
@role_required(*JUDGES)
def judge_module(programme_slug: str, module_slug: str):
    """The cohort with your score; the others' only for those you scored."""
    programme, module = _project_or_404(programme_slug, module_slug)
    return render_template(
        "bootcamp/judging/module.html",
        programme=programme,
        module=module,
        cards=judging.scorecards(programme, module, current_user),
    )


@bp.route(
    "/judging/<programme_slug>/<module_slug>/<int:user_id>", methods=["GET", "POST"]
)
@role_required(*JUDGES)
def review_project(programme_slug: str, module_slug: str, user_id: int):
    """Score one participant against the rubric; then read the other reviews.

    :raise 404: the participant is not in the cohort.
    """
    programme, module = _project_or_404(programme_slug, module_slug)
    person = cohort.cohort_member(programme, user_id) or abort(404)
    card = judging.scorecard(programme, module, person, current_user)
    form = review_form(module, card.mine if request.method == "GET" else None)
    status = 200
    if form.validate_on_submit():
        try:
            done = judging.submit_review(
                programme,
                module,
                person.user,
                current_user,
                form.points_given(),
                form.comment.data,
            )
        except DomainError as error:
            for each in getattr(error, "errors", [error]):
                pour_onto(form, each)
            status = error.status if error.status in (403, 409) else form_status(form)
        else:
            db.session.commit()
            flash(
                f"Your scores for {person.user.name} are "
                f"{'saved' if done.created else 'updated'}.",
                "success",
            )
            return redirect(
                url_for(
                    ".review_project",
                    programme_slug=programme.slug,
                    module_slug=module.slug,
                    user_id=person.user.id,
                )
            )
    return render_template(
        "bootcamp/judging/review.html",
        programme=programme,
        module=module,
        card=card,
        form=form,
    ), status


@bp.route("/organise/programmes/<slug>/projects", methods=["GET", "POST"])
@role_required(*ORGANISERS)
def project_scores(slug: str):
    """Every participant's project scores by judge, and publishing them."""
    programme = programme_or_404(slug)
    form = PublishForm()
    if request.method == "POST":
        if not form.validate_on_submit():
            abort(400)
        publish = form.publish.data == "on"
        judging.set_published(programme, publish, current_user)
        db.session.commit()
        flash(
            "Participants now see their project scores and the judges' comments; "
            "reviews are locked."
            if publish
            else "Project scores are hidden from participants again; judges may "
            "revise their reviews.",
            "success",
        )
        return redirect(url_for(".project_scores", slug=slug))
    return render_template(
        "bootcamp/judging/projects.html",
        programme=programme,
        boards=judging.boards(programme, current_user),
        form=form,
    )
