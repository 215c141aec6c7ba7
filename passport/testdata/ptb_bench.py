#!/usr/bin/python3
"""Time python-telegram-bot's Passport decryption, for comparison with kycbot's
Go benchmarks.

Usage: ptb_bench.py [--cpu] [JOB.json]   (or the job on stdin)

--cpu times with the thread's CPU time (time.thread_time) instead of the
wall clock: steadier on a shared machine, and what `openssl speed` and
kycbot's cpu-* benchmark metrics report.

The job is the ptb_decrypt.py format, or the shared sample
(../shared/testdata/passport/ptb-passport-1.1.json): only "private_key_pem"
and "passport_data" are used.

Prints two lines:
    ptb_decrypt_ns_per_op <N>  full decryption of the submission: a fresh
                               PassportData.de_json, then the credentials
                               (RSA-OAEP + AES) and every element's data;
                               no files. The Bot and its key are built once,
                               outside the timed loop.
    ptb_rsa_ns_per_op <N>      one bare RSA-OAEP-SHA1 decryption of the
                               credentials secret with the cryptography package.
Each is the mean over a single timeit run sized to take about 2 s.
"""

import copy
import json
import math
import sys
import time
import timeit
import warnings
from base64 import b64decode

warnings.filterwarnings("ignore", category=UserWarning)
warnings.filterwarnings("ignore", category=DeprecationWarning)

import telegram  # noqa: E402
from cryptography.hazmat.primitives import hashes, serialization  # noqa: E402
from cryptography.hazmat.primitives.asymmetric import padding  # noqa: E402

TARGET_SECONDS = 2.0


def ns_per_op(fn, clock):
    timer = timeit.Timer(fn, timer=clock)
    n, t = timer.autorange()  # at least 0.2 s
    number = max(1, math.ceil(n * TARGET_SECONDS / t))
    return timer.timeit(number) / number * 1e9


def main():
    args = sys.argv[1:]
    clock = time.perf_counter
    if args[:1] == ["--cpu"]:
        clock = time.thread_time
        args = args[1:]
    if len(args) > 1:
        sys.exit("usage: ptb_bench.py [--cpu] [JOB.json]")
    if len(args) == 1:
        with open(args[0], encoding="utf-8") as f:
            job = json.load(f)
    else:
        job = json.load(sys.stdin)
    pem = job["private_key_pem"].encode()
    raw = job["passport_data"]

    bot = telegram.Bot("123:abc", private_key=pem)
    pristine = copy.deepcopy(raw)

    def decrypt_all():
        pd = telegram.PassportData.de_json(raw, bot)
        nonce = pd.decrypted_credentials.nonce
        return nonce, pd.decrypted_data

    # Sanity: it decrypts, every data element has its data, and PTB does not
    # mutate the input (so reusing raw in the loop is a fresh decryption).
    nonce, elements = decrypt_all()
    if not nonce:
        sys.exit("ptb_bench: no nonce after decryption")
    for el in elements:
        if el.type not in ("phone_number", "email") and el.data is None and el.files is None:
            sys.exit("ptb_bench: element %s decrypted to nothing" % el.type)
    if raw != pristine:
        sys.exit("ptb_bench: PassportData.de_json mutated its input; the loop would not be fresh")

    key = serialization.load_pem_private_key(pem, password=None)
    secret = b64decode(raw["credentials"]["secret"])
    oaep = padding.OAEP(mgf=padding.MGF1(algorithm=hashes.SHA1()), algorithm=hashes.SHA1(), label=None)
    if len(key.decrypt(secret, oaep)) != 32:
        sys.exit("ptb_bench: the credentials secret is not 32 bytes")
    if key.key_size != 2048:
        print("ptb_bench: note: the key is RSA-%d, not RSA-2048" % key.key_size, file=sys.stderr)

    print("ptb_decrypt_ns_per_op %d" % round(ns_per_op(decrypt_all, clock)))
    print("ptb_rsa_ns_per_op %d" % round(ns_per_op(lambda: key.decrypt(secret, oaep), clock)))


if __name__ == "__main__":
    main()
