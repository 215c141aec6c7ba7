#!/usr/bin/python3
"""Decrypt a Telegram Passport submission with python-telegram-bot (PTB 13).

Independent cross-check for kycbot's passport package (see interop_test.go).

stdin: a JSON job
    {"private_key_pem": "...",
     "passport_data": {Bot API PassportData},
     "files": {"<file_id>": "<base64 of the encrypted file>"}}
("files" may be left out to decrypt only credentials and data; when it is
present, every file of the submission must be in it.)

stdout: JSON
    {"ptb_version": "...",
     "nonce": "...",
     "elements": {"<type>": {
         "data": {<PersonalDetails/IdDocumentData/ResidentialAddress .to_dict()>},
         "data_fields": [<attributes the PTB data class exposes>],
         "phone_number": "...", "email": "...",
         "files": {"<file_id>": "<sha256 hex of the decrypted file>"}}}}

Every decryption is PTB's own: PassportData.de_json + decrypted_credentials +
decrypted_data for the credentials and the data, and
telegram.passport.credentials.decrypt with the FileCredentials PTB attached
to each PassportFile for the files. Any failure exits 1 with a message on
stderr.
"""

import hashlib
import json
import sys
import traceback
import warnings
from base64 import b64decode

# PTB 13 warns when it runs on the system urllib3 instead of its vendored
# copy, and imports the deprecated imghdr; neither matters here.
warnings.filterwarnings("ignore", category=UserWarning)
warnings.filterwarnings("ignore", category=DeprecationWarning)

import telegram  # noqa: E402
from telegram.passport.credentials import decrypt  # noqa: E402

FILE_PARTS_SINGLE = ("front_side", "reverse_side", "selfie")
FILE_PARTS_LIST = ("files", "translation")


def fail(msg):
    print("ptb_decrypt: " + msg, file=sys.stderr)
    sys.exit(1)


def exposed_fields(obj):
    """Public attributes of a PTB data object (its __slots__ minus bot)."""
    names = set()
    for cls in type(obj).__mro__[:-2]:  # skip TelegramObject and object
        for s in getattr(cls, "__slots__", ()):
            if s != "bot" and not s.startswith("_"):
                names.add(s)
    return sorted(names)


def decrypt_file(pf, where, encrypted_files):
    creds = getattr(pf, "_credentials", None)
    if creds is None:
        fail("%s (file_id %r): PTB attached no FileCredentials" % (where, pf.file_id))
    enc = encrypted_files.get(pf.file_id)
    if enc is None:
        fail("%s: no encrypted bytes in the job for file_id %r" % (where, pf.file_id))
    plain = decrypt(b64decode(creds.secret), b64decode(creds.file_hash), b64decode(enc))
    return hashlib.sha256(plain).hexdigest()


def main():
    try:
        job = json.load(sys.stdin)
    except ValueError as e:
        fail("stdin is not a JSON job: %s" % e)
    for k in ("private_key_pem", "passport_data"):
        if k not in job:
            fail("job has no %r" % k)
    encrypted_files = job.get("files")

    bot = telegram.Bot("123:abc", private_key=job["private_key_pem"].encode())
    pd = telegram.PassportData.de_json(job["passport_data"], bot)
    creds = pd.decrypted_credentials
    elements = {}
    for el in pd.decrypted_data:
        if el.type in elements:
            fail("element %s appears twice" % el.type)
        out = {}
        if el.data is not None:
            out["data"] = el.data.to_dict()
            out["data_fields"] = exposed_fields(el.data)
        if el.phone_number is not None:
            out["phone_number"] = el.phone_number
        if el.email is not None:
            out["email"] = el.email
        scans = []  # (where, PassportFile)
        for part in FILE_PARTS_SINGLE:
            pf = getattr(el, part)
            if pf is not None:
                scans.append(("%s.%s" % (el.type, part), pf))
        for part in FILE_PARTS_LIST:
            for i, pf in enumerate(getattr(el, part) or []):
                scans.append(("%s.%s[%d]" % (el.type, part, i), pf))
        files = {}
        for where, pf in scans:
            if pf.file_id in files:
                fail("%s: file_id %r used twice" % (where, pf.file_id))
            if encrypted_files is not None:
                files[pf.file_id] = decrypt_file(pf, where, encrypted_files)
        if files:
            out["files"] = files
        elements[el.type] = out

    json.dump(
        {"ptb_version": telegram.__version__, "nonce": creds.nonce, "elements": elements},
        sys.stdout,
        sort_keys=True,
    )
    sys.stdout.write("\n")


if __name__ == "__main__":
    try:
        main()
    except SystemExit:
        raise
    except BaseException as e:  # report every PTB failure, then exit non-zero
        traceback.print_exc(file=sys.stderr)
        fail("%s: %s" % (type(e).__name__, e))
