"""What ``python -m d2lnotes.ch2`` shows for each section (``d2lnotes.ch2.TOPICS``): a report
runs the section of the tour, prints its checks, saves its picture and returns
``(results, summary)`` (see ``d2lnotes.utils.topics``)."""

from . import tour


def _checks(run, say, s):
    """Print the section's title and checks (a False one even under --quiet); its results."""
    say(s.title)
    for check in s.checks:
        if not run.quiet or not check.ok:
            print(f"  {check}")
    results = {"checks": [{"label": c.label, "claim": c.claim, "ok": c.ok} for c in s.checks],
               "all_true": s.ok, **s.results}
    return results, f"{sum(c.ok for c in s.checks)} of {len(s.checks)} checks True"


def linalg(run, say):
    """§2.1, §2.3: broadcasting, memory, products and norms."""
    return _checks(run, say, tour.linalg_tour(run.device))


def preprocessing(run, say):
    """§2.2: house_tiny.csv, written to the data folder and read both ways."""
    return _checks(run, say, tour.preprocessing_tour(run.data_dir))


def calculus(run, say):
    """§2.4: the limit table, and the tangent line's picture."""
    done = _checks(run, say, tour.calculus_tour())
    if run.out:
        run.save(tour.plot_tangent(), "tangent_line.png")
    return done


def autograd(run, say):
    """§2.5: autograd on y = 2 x·x and each caveat."""
    return _checks(run, say, tour.autograd_tour(run.seed, run.device))


def sampling(run, say):
    """§2.6: a fair die both ways, and the running estimates' picture."""
    s = tour.probability_tour(run.seed)
    done = _checks(run, say, s)
    if run.out:
        run.save(tour.plot_die_convergence(s.plot_data["estimates"]), "die_convergence.png")
    return done
