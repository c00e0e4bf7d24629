; Universal C Runtime check of the installer (issue 22), included by exam-client.nsi after
; its texts: `!include "ucrt.nsh"` and, in .onInit after the 64-bit check,
; `!insertmacro CheckUcrt`.
;
; The client (Python 3.11 + Qt 6, 64-bit) needs System32\ucrtbase.dll 10.0.14393 or newer.
; An older copy gives "无法定位程序输入点 _o__configure_narrow_argv 于动态链接库
; api-ms-win-crt-private-l1-1-0.dll" at start: the _o_ exports came with 10.0.14393. On
; Windows 10/11 the UCRT is part of Windows; stripped ("精简版"/Ghost) images may lack it.
; The readiness check makes the same decision (client/readiness/ucrt.py, MIN_UCRT_VERSION).

!define EXIT_OLD_UCRT 8
!define UCRT_MIN_BUILD 14393
!ifndef UCRT_DLL
  ; Only the wine refusal test builds with another file (makensis -DUCRT_DLL=...): under
  ; wine any file named ucrtbase.dll answers with the version of Wine's own copy, which the
  ; installer process has already loaded (tests/deploy/test_installer_wine_refusals.py).
  !define UCRT_DLL "$WINDIR\System32\ucrtbase.dll"
!endif

LangString MSG_UCRT_MISSING ${LANG_SIMPCHINESE} "本机缺少通用 C 运行库（C:\Windows\System32\ucrtbase.dll），考试客户端无法启动（会出现“无法定位程序输入点 … api-ms-win-crt-private-l1-1-0.dll”）。$\r$\n请安装 Windows 的最新累积更新，或以管理员身份运行 sfc /scannow 修复系统文件；精简版/Ghost 系统请换用完整镜像。安装已取消，没有复制任何文件。"
LangString MSG_UCRT_MISSING ${LANG_ENGLISH} "This PC lacks the Universal C Runtime (C:\Windows\System32\ucrtbase.dll); Exam Client cannot start without it (error: entry point not found in api-ms-win-crt-private-l1-1-0.dll).$\r$\nInstall the latest Windows cumulative update, or run sfc /scannow as an administrator; replace stripped/Ghost Windows images with a full one. Nothing was installed."
LangString MSG_UCRT_OLD ${LANG_SIMPCHINESE} "本机的通用 C 运行库版本过旧（ucrtbase.dll 需要 10.0.14393 或更高），考试客户端会出现“无法定位程序输入点 _o__configure_narrow_argv 于 api-ms-win-crt-private-l1-1-0.dll”而无法启动。$\r$\n请安装 Windows 的最新累积更新，或以管理员身份运行 sfc /scannow 修复系统文件；精简版/Ghost 系统请换用完整镜像。安装已取消，没有复制任何文件。本机版本："
LangString MSG_UCRT_OLD ${LANG_ENGLISH} "This PC's Universal C Runtime is too old (ucrtbase.dll 10.0.14393 or newer is needed); Exam Client would fail with 'entry point _o__configure_narrow_argv not found in api-ms-win-crt-private-l1-1-0.dll'.$\r$\nInstall the latest Windows cumulative update, or run sfc /scannow as an administrator; replace stripped/Ghost Windows images with a full one. Nothing was installed. Version found: "

!macro CheckUcrt
  ; The installer is 32-bit: look at the 64-bit System32, not SysWOW64.
  ${DisableX64FSRedirection}
  ClearErrors
  GetDLLVersion "${UCRT_DLL}" $R0 $R1
  ${EnableX64FSRedirection}
  ${If} ${Errors}
    !insertmacro FailWith ${EXIT_OLD_UCRT} "$(MSG_UCRT_MISSING)"
  ${EndIf}
  IntOp $R2 $R0 >> 16     ; major
  IntOp $R3 $R0 & 0xFFFF  ; minor
  IntOp $R4 $R1 >> 16     ; build
  IntOp $R5 $R1 & 0xFFFF  ; revision
  ${If} $R2 < 10
  ${OrIf} $R4 < ${UCRT_MIN_BUILD}
    !insertmacro FailWith ${EXIT_OLD_UCRT} "$(MSG_UCRT_OLD)$R2.$R3.$R4.$R5"
  ${EndIf}
!macroend
