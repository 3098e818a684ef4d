"""Generates the polynomial coefficients used in cpp/vecmath.h.

Each kernel approximates a smooth, well-scaled helper function on a small
interval; we interpolate it at Chebyshev nodes in 60-digit arithmetic (close
to minimax for these analytic functions) and report the resulting maximum
relative error of the full approximation so the degree can be chosen.

    python3 tools/vecmath_coeffs.py
"""
import mpmath as mp

mp.mp.dps = 60


def cheb_fit(g, a, b, deg):
    """Monomial coefficients (low to high) of the degree-`deg` interpolant of g
    at the Chebyshev nodes of [a, b]."""
    n = deg + 1
    xs = [(a + b) / 2 + (b - a) / 2 * mp.cos(mp.pi * (2 * k + 1) / (2 * n)) for k in range(n)]
    A = mp.matrix([[x ** j for j in range(n)] for x in xs])
    y = mp.matrix([g(x) for x in xs])
    return list(mp.lu_solve(A, y))


def rational_fit(g, hi, m, n, samples=3000, iters=60):
    """Monomial coefficients (low to high) of P (degree m) and Q (degree n, Q(0) = 1)
    with P/Q close to minimax in relative error on [0, hi]: Lawson's iteratively
    reweighted, linearised least squares. float64 is ample for ~1e-9 targets."""
    import numpy as np

    xs = [hi * (1 - mp.cos(mp.pi * k / samples)) / 2 for k in range(samples + 1)]
    gv = np.array([float(g(x)) for x in xs])
    s = np.array([float(x / hi) for x in xs])  # fitted in x / hi: a well-scaled system
    vp = np.vander(s, m + 1, increasing=True)
    vq = np.vander(s, n + 1, increasing=True)[:, 1:]
    a0 = np.hstack([vp, -gv[:, None] * vq])
    w, qprev, best = np.ones_like(s), np.ones_like(s), None
    for _ in range(iters):
        r = np.sqrt(w) / (np.abs(gv) * qprev)  # relative error, linearised around the last Q
        z = np.linalg.lstsq(a0 * r[:, None], gv * r, rcond=None)[0]
        qv = vq @ z[m + 1:] + 1
        err = (vp @ z[:m + 1]) / qv / gv - 1
        if best is None or np.max(np.abs(err)) < best[0]:
            best = (np.max(np.abs(err)), z)
        w = w * np.abs(err)
        w, qprev = w / w.sum(), qv
    z = best[1]
    p = [mp.mpf(float(c)) / hi ** k for k, c in enumerate(z[:m + 1])]  # back to powers of x
    q = [mp.mpf(float(c)) / hi ** k for k, c in enumerate([1.0, *z[m + 1:]])]
    return p, q


def rounded(cs, kind):
    if kind == "f":
        return [mp.mpf(float_to_f32(c)) for c in cs]
    return [mp.mpf(float(c)) for c in cs]


def float_to_f32(c):
    import numpy as np
    return float(np.float32(float(c)))


def poly(cs, x):
    r = mp.mpf(0)
    for c in reversed(cs):
        r = r * x + c
    return r


def report(name, cs, kind, full, exact, a, b, samples=4000):
    cs_r = rounded(cs, kind)
    worst = mp.mpf(0)
    for k in range(samples + 1):
        x = a + (b - a) * k / samples
        if x == 0:
            continue
        e = exact(x)
        worst = max(worst, abs((full(cs_r, x) - e) / e))
    lit = ", ".join((f"{float_to_f32(c):.9g}f" if kind == "f" else f"{float(c):.17g}") for c in cs_r)
    print(f"{name} [{kind}] deg {len(cs) - 1}: max rel err {mp.nstr(worst, 3)}\n  {{{lit}}}")


def main():
    h = mp.log(2) / 2 * mp.mpf("1.01")  # |r| after exp range reduction, with slack
    def expq(r):
        with mp.workdps(300):  # a node sits at ~1e-60: avoid cancellation
            return (mp.expm1(r) - r) / r ** 2 if r != 0 else mp.mpf(1) / 2
    for kind, deg in (("f", 4), ("f", 5), ("d", 9), ("d", 10)):
        cs = cheb_fit(expq, -h, h, deg)
        report("expm1 Q(r)=(e^r-1-r)/r^2", cs, kind, lambda c, r: r + r * r * poly(c, r), mp.expm1, -h, h)

    smax = (mp.sqrt(2) - 1) / (mp.sqrt(2) + 1) * mp.mpf("1.01")
    zmax = smax ** 2
    # log(1+f) = 2 atanh(s), s = f/(2+f);  2 atanh(s) = 2s + s*z*R(z), z = s^2.
    logr = lambda z: (2 * mp.atanh(mp.sqrt(z)) / mp.sqrt(z) - 2) / z if z != 0 else mp.mpf(2) / 3
    for kind, deg in (("f", 2), ("d", 6), ("d", 7)):
        cs = cheb_fit(logr, 0, zmax, deg)
        report("log R(z)", cs, kind,
               lambda c, s: 2 * s + s * s * s * poly(c, s * s), lambda s: 2 * mp.atanh(s), -smax, smax)

    # float tanh: T = 2 tanh(a/2) = a + a^3 R(a^2), R = P/Q, for a in [0, 9.2]
    # (tanh rounds to 1 beyond 9.02; the kernel clamps at 9.1).
    tanr = lambda u: (2 * mp.tanh(mp.sqrt(u) / 2) - mp.sqrt(u)) / mp.sqrt(u) ** 3 if u != 0 else -mp.mpf(1) / 12
    pc, qc = rational_fit(tanr, mp.mpf("9.2") ** 2, 2, 3)
    pc_f, qc_f = rounded(pc, "f"), rounded(qc, "f")  # as the kernel holds them
    big_t = lambda a: a + a ** 3 * poly(pc_f, a * a) / poly(qc_f, a * a)
    full = lambda a: 4 * big_t(a) / (4 + big_t(a) ** 2)  # tanh a = 2h/(1+h^2), h = tanh(a/2)
    worst = max(abs(full(a) / mp.tanh(a) - 1) for a in (mp.mpf(k) / 400 for k in range(1, 3681)))
    print(f"tanh via T(a)=2tanh(a/2), R(u) P/Q deg 2/3 [f]: max rel err {mp.nstr(worst, 3)}")
    for name, cs in (("P", pc), ("Q", qc)):
        print(f"  {name} {{{', '.join(f'{float_to_f32(c):.9g}f' for c in cs)}}}")

    zq = (mp.pi / 4) ** 2 * mp.mpf("1.01")
    sins = lambda z: (mp.sin(mp.sqrt(z)) / mp.sqrt(z) - 1) / z if z != 0 else -mp.mpf(1) / 6
    coss = lambda z: (mp.cos(mp.sqrt(z)) - 1 + z / 2) / z ** 2 if z != 0 else mp.mpf(1) / 24
    rq = mp.sqrt(zq)
    for deg in (3, 4):
        cs = cheb_fit(sins, 0, zq, deg)
        report("sin S(z)", cs, "d", lambda c, r: r + r ** 3 * poly(c, r * r), mp.sin, -rq, rq)
        cs = cheb_fit(coss, 0, zq, deg)
        report("cos C(z)", cs, "d", lambda c, r: 1 - r * r / 2 + r ** 4 * poly(c, r * r), mp.cos, -rq, rq)


if __name__ == "__main__":
    main()
