"""Who signed a file: the subject of its embedded Authenticode signature, if it verifies.

Two calls, kept small on purpose:
1. WinVerifyTrust (WINTRUST_ACTION_GENERIC_VERIFY_V2, no UI, no revocation fetch, cache
   only: no network on an exam PC) decides whether the embedded signature is valid and
   chains to a trusted root. Without it, anyone could paste a vendor's certificate into a
   renamed binary and pass an allow entry.
2. CryptQueryObject + CryptMsgGetParam(CMSG_SIGNER_INFO_PARAM) + CertFindCertificateInStore
   read the signer certificate's simple display name ("AnyDesk Software GmbH").

Left out, deliberately: catalog-signed files (most Windows system binaries carry no
embedded signature; they report "" here), nested/dual signatures beyond the first signer,
thumbprints, and revocation checks. Only allow entries and evidence use the signer, and
the tools an exam centre approves are third-party binaries with embedded signatures.
"""

from __future__ import annotations

import sys

if sys.platform == "win32":
    import ctypes
    from ctypes import wintypes

    class _GUID(ctypes.Structure):
        _fields_ = [("Data1", wintypes.DWORD), ("Data2", wintypes.WORD),
                    ("Data3", wintypes.WORD), ("Data4", ctypes.c_ubyte * 8)]

    class _WINTRUST_FILE_INFO(ctypes.Structure):
        _fields_ = [("cbStruct", wintypes.DWORD), ("pcwszFilePath", wintypes.LPCWSTR),
                    ("hFile", wintypes.HANDLE), ("pgKnownSubject", ctypes.POINTER(_GUID))]

    class _WINTRUST_DATA(ctypes.Structure):
        _fields_ = [
            ("cbStruct", wintypes.DWORD), ("pPolicyCallbackData", ctypes.c_void_p),
            ("pSIPClientData", ctypes.c_void_p), ("dwUIChoice", wintypes.DWORD),
            ("fdwRevocationChecks", wintypes.DWORD), ("dwUnionChoice", wintypes.DWORD),
            ("pFile", ctypes.POINTER(_WINTRUST_FILE_INFO)), ("dwStateAction", wintypes.DWORD),
            ("hWVTStateData", wintypes.HANDLE), ("pwszURLReference", wintypes.LPWSTR),
            ("dwProvFlags", wintypes.DWORD), ("dwUIContext", wintypes.DWORD),
            ("pSignatureSettings", ctypes.c_void_p),
        ]

    class _BLOB(ctypes.Structure):  # CRYPT_INTEGER_BLOB / CERT_NAME_BLOB / CRYPT_OBJID_BLOB
        _fields_ = [("cbData", wintypes.DWORD), ("pbData", ctypes.POINTER(ctypes.c_ubyte))]

    class _BIT_BLOB(ctypes.Structure):
        _fields_ = [("cbData", wintypes.DWORD), ("pbData", ctypes.POINTER(ctypes.c_ubyte)),
                    ("cUnusedBits", wintypes.DWORD)]

    class _ALGORITHM_IDENTIFIER(ctypes.Structure):
        _fields_ = [("pszObjId", wintypes.LPSTR), ("Parameters", _BLOB)]

    class _SIGNER_INFO_HEAD(ctypes.Structure):
        # The first fields of CMSG_SIGNER_INFO; the rest of the buffer is not read.
        _fields_ = [("dwVersion", wintypes.DWORD), ("Issuer", _BLOB), ("SerialNumber", _BLOB)]

    class _CERT_INFO(ctypes.Structure):
        _fields_ = [
            ("dwVersion", wintypes.DWORD), ("SerialNumber", _BLOB),
            ("SignatureAlgorithm", _ALGORITHM_IDENTIFIER), ("Issuer", _BLOB),
            ("NotBefore", wintypes.FILETIME), ("NotAfter", wintypes.FILETIME),
            ("Subject", _BLOB), ("SubjectPublicKeyAlgorithm", _ALGORITHM_IDENTIFIER),
            ("SubjectPublicKey", _BIT_BLOB), ("IssuerUniqueId", _BIT_BLOB),
            ("SubjectUniqueId", _BIT_BLOB), ("cExtension", wintypes.DWORD),
            ("rgExtension", ctypes.c_void_p),
        ]

    # {00AAC56B-CD44-11d0-8CC2-00C04FC295EE}
    _GENERIC_VERIFY_V2 = _GUID(0x00AAC56B, 0xCD44, 0x11D0,
                               (ctypes.c_ubyte * 8)(0x8C, 0xC2, 0x00, 0xC0, 0x4F, 0xC2, 0x95, 0xEE))

_WTD_UI_NONE = 2
_WTD_REVOKE_NONE = 0
_WTD_CHOICE_FILE = 1
_WTD_STATEACTION_IGNORE = 0
_WTD_CACHE_ONLY_URL_RETRIEVAL = 0x1000
_CERT_QUERY_OBJECT_FILE = 1
_CERT_QUERY_CONTENT_FLAG_PKCS7_SIGNED_EMBED = 1 << 10
_CERT_QUERY_FORMAT_FLAG_BINARY = 1 << 1
_CMSG_SIGNER_INFO_PARAM = 6
_ENCODING = 0x00000001 | 0x00010000  # X509_ASN_ENCODING | PKCS_7_ASN_ENCODING
_CERT_FIND_SUBJECT_CERT = 11 << 16
_CERT_NAME_SIMPLE_DISPLAY_TYPE = 4


def signature_is_trusted(path: str) -> bool:
    if sys.platform == "win32":
        wintrust = ctypes.WinDLL("wintrust", use_last_error=True)
        wintrust.WinVerifyTrust.argtypes = [wintypes.HWND, ctypes.POINTER(_GUID),
                                            ctypes.POINTER(_WINTRUST_DATA)]
        wintrust.WinVerifyTrust.restype = wintypes.LONG
        file_info = _WINTRUST_FILE_INFO(ctypes.sizeof(_WINTRUST_FILE_INFO), path, None, None)
        data = _WINTRUST_DATA()
        data.cbStruct = ctypes.sizeof(_WINTRUST_DATA)
        data.dwUIChoice = _WTD_UI_NONE
        data.fdwRevocationChecks = _WTD_REVOKE_NONE
        data.dwUnionChoice = _WTD_CHOICE_FILE
        data.pFile = ctypes.pointer(file_info)
        data.dwStateAction = _WTD_STATEACTION_IGNORE
        data.dwProvFlags = _WTD_CACHE_ONLY_URL_RETRIEVAL
        action = _GUID(_GENERIC_VERIFY_V2.Data1, _GENERIC_VERIFY_V2.Data2,
                       _GENERIC_VERIFY_V2.Data3, _GENERIC_VERIFY_V2.Data4)
        return int(wintrust.WinVerifyTrust(None, ctypes.byref(action), ctypes.byref(data))) == 0
    raise OSError("Authenticode is verified with the Windows API only")


def embedded_signer_name(path: str) -> str:
    """Simple display name of the first signer's certificate (not verified here)."""
    if sys.platform == "win32":
        crypt32 = ctypes.WinDLL("crypt32", use_last_error=True)
        crypt32.CryptQueryObject.argtypes = [
            wintypes.DWORD, ctypes.c_void_p, wintypes.DWORD, wintypes.DWORD, wintypes.DWORD,
            ctypes.POINTER(wintypes.DWORD), ctypes.POINTER(wintypes.DWORD),
            ctypes.POINTER(wintypes.DWORD), ctypes.POINTER(ctypes.c_void_p),
            ctypes.POINTER(ctypes.c_void_p), ctypes.c_void_p]
        crypt32.CryptQueryObject.restype = wintypes.BOOL
        crypt32.CryptMsgGetParam.argtypes = [ctypes.c_void_p, wintypes.DWORD, wintypes.DWORD,
                                             ctypes.c_void_p, ctypes.POINTER(wintypes.DWORD)]
        crypt32.CryptMsgGetParam.restype = wintypes.BOOL
        crypt32.CertFindCertificateInStore.argtypes = [
            ctypes.c_void_p, wintypes.DWORD, wintypes.DWORD, wintypes.DWORD, ctypes.c_void_p,
            ctypes.c_void_p]
        crypt32.CertFindCertificateInStore.restype = ctypes.c_void_p
        crypt32.CertGetNameStringW.argtypes = [ctypes.c_void_p, wintypes.DWORD, wintypes.DWORD,
                                               ctypes.c_void_p, wintypes.LPWSTR, wintypes.DWORD]
        crypt32.CertGetNameStringW.restype = wintypes.DWORD
        crypt32.CertFreeCertificateContext.argtypes = [ctypes.c_void_p]
        crypt32.CertCloseStore.argtypes = [ctypes.c_void_p, wintypes.DWORD]
        crypt32.CryptMsgClose.argtypes = [ctypes.c_void_p]

        encoding, content, fmt = wintypes.DWORD(), wintypes.DWORD(), wintypes.DWORD()
        store, msg = ctypes.c_void_p(), ctypes.c_void_p()
        path_buffer = ctypes.create_unicode_buffer(path)
        if not crypt32.CryptQueryObject(
            _CERT_QUERY_OBJECT_FILE, ctypes.cast(path_buffer, ctypes.c_void_p),
            _CERT_QUERY_CONTENT_FLAG_PKCS7_SIGNED_EMBED, _CERT_QUERY_FORMAT_FLAG_BINARY, 0,
            ctypes.byref(encoding), ctypes.byref(content), ctypes.byref(fmt),
            ctypes.byref(store), ctypes.byref(msg), None,
        ):
            return ""  # no embedded signature
        cert = None
        try:
            size = wintypes.DWORD()
            if not crypt32.CryptMsgGetParam(msg, _CMSG_SIGNER_INFO_PARAM, 0, None,
                                            ctypes.byref(size)):
                return ""
            signer_buffer = ctypes.create_string_buffer(size.value)
            if not crypt32.CryptMsgGetParam(msg, _CMSG_SIGNER_INFO_PARAM, 0, signer_buffer,
                                            ctypes.byref(size)):
                return ""
            signer = _SIGNER_INFO_HEAD.from_buffer(signer_buffer)
            wanted = _CERT_INFO()
            wanted.Issuer = signer.Issuer
            wanted.SerialNumber = signer.SerialNumber
            cert = crypt32.CertFindCertificateInStore(store, _ENCODING, 0, _CERT_FIND_SUBJECT_CERT,
                                                      ctypes.byref(wanted), None)
            if not cert:
                return ""
            name = ctypes.create_unicode_buffer(256)
            crypt32.CertGetNameStringW(cert, _CERT_NAME_SIMPLE_DISPLAY_TYPE, 0, None, name, 256)
            return name.value.strip()
        finally:
            if cert:
                crypt32.CertFreeCertificateContext(cert)
            if store:
                crypt32.CertCloseStore(store, 0)
            if msg:
                crypt32.CryptMsgClose(msg)
    raise OSError("Authenticode is read with the Windows API only")


def verified_signer(path: str) -> str:
    """The signer's name when the embedded signature verifies, else ""."""
    return embedded_signer_name(path) if signature_is_trusted(path) else ""
