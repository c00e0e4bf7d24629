; 考试客户端安装程序 / Exam Client installer (NSIS 3, Unicode).
;
; Build (Windows release, or Linux CI with Debian's nsis package):
;   makensis -DVERSION=0.1.0 -DPAYLOAD=..\dist\ExamClient -DOUTFILE=ExamClient-Setup.exe exam-client.nsi
; PAYLOAD is the PyInstaller folder (build.spec): ExamClient.exe, ExamClient-console.exe,
; _internal\. installer/README.md documents every option; docs/deploy.md is the admin guide.
;
; Command line (all optional; /S = silent, /D= must come last). A value with spaces is
; quoted, either way: /DATADIR="D:\考试 数据" or "/DATADIR=D:\考试 数据".
;   /CONFIG=path\center.ini   center configuration, copied to C:\ProgramData\ExamClient\user.ini
;   /SERVER=https://...       [server] url        } written to C:\ProgramData\ExamClient\
;   /CENTER=id                [server] center_id  } installer.ini, which wins over center.ini
;   /CAFILE=path\ca.pem       [server] ca_file    } key by key (the CA file is copied to
;   /DATADIR=D:\ExamClientData [data] directory   } C:\ProgramData\ExamClient\center-ca.pem)
;   /RENDERLEVEL=auto|0|1|2   [OpenGL] Level      }
; C:\ProgramData\ExamClient holds the server's trust anchors (url, CA, signing key): only
; Administrators and SYSTEM may change it (icacls below); candidates read it. The client
; ignores those keys in any other file (docs/console.md, "Trust anchors").
;   /S  silent   /D=C:\Program Files\ExamClient  install folder
; An upgrade without options keeps every option of the previous installation (registry).
; Exit codes: 0 installed, 2 cancelled, 3 Windows older than 10, 4 not 64-bit Windows,
;   5 /CONFIG or /CAFILE file not found, 6 invalid option value, 7 not an administrator,
;   8 Universal C Runtime missing or older than 10.0.14393 (installer/ucrt.nsh),
;   9 installed, but the data folder is on the system drive (restore software wipes it),
;   10 the client is running: nothing was changed, close it and run the installer again.
; Log (UTF-8): ExamClient-install.log in the folder that holds the data folder; before the
;   data folder is known (invalid options): %TEMP%\ExamClient-install.log.
; Uninstaller: keeps the answer data folder; /PURGE (or "Yes" in the dialog) deletes it,
;   and only a folder this installer created. Synchronous silent uninstall:
;   "<install dir>\uninstall.exe" /S _?=<install dir>   (then delete uninstall.exe)

Unicode true
ManifestDPIAware true
ManifestSupportedOS all  ; declares Windows 10 support, so WinVer sees the real version
RequestExecutionLevel admin
SetCompressor /SOLID lzma
; A 32-bit installer on purpose: on 32-bit Windows it can still start and say why the
; 64-bit client cannot be installed, instead of Windows' "not a valid Win32 application".
Target x86-unicode

!include MUI2.nsh
!include LogicLib.nsh
!include FileFunc.nsh
!include WinVer.nsh
!include x64.nsh

!ifndef VERSION
  !define VERSION "0.0.0"
!endif
!ifndef PAYLOAD
  !define PAYLOAD "..\dist\ExamClient"
!endif
!ifndef OUTFILE
  !define OUTFILE "..\dist\ExamClient-Setup-${VERSION}.exe"
!endif
!define APP "ExamClient"
!define APP_KEY "Software\${APP}"
!define UNINST_KEY "Software\Microsoft\Windows\CurrentVersion\Uninstall\${APP}"
!define USERS_SID "*S-1-5-32-545"  ; BUILTIN\Users by SID: its name is localised (用户)
!define INSTALLER_INI "installer.ini"  ; the options below, in C:\ProgramData\ExamClient
!define CA_NAME "center-ca.pem"

!define EXIT_OLD_WINDOWS 3
!define EXIT_NOT_64BIT 4
!define EXIT_FILE_MISSING 5
!define EXIT_BAD_OPTION 6
!define EXIT_NOT_ADMIN 7
!define EXIT_DATA_ON_SYSTEM_DRIVE 9
!define EXIT_CLIENT_RUNNING 10
!define LOG_NAME "ExamClient-install.log"
!define DATA_MARKER ".exam-client-data"  ; in a data folder this installer created
; Shortcut names: Chinese on every Windows display language (the rooms' instructions and
; the proctors say 考试客户端 / 考前检查, whatever language the image was installed in).
!define SHORTCUT_APP "考试客户端"
!define SHORTCUT_CHECK "考前检查"

!ifndef ICON
  ; the program's own icon (tools/make_icon.py), also ExamClient.exe's (build.spec)
  !define ICON "..\resources\icons\exam-client.ico"
!endif
!define MUI_ICON "${ICON}"
!define MUI_UNICON "${ICON}"

Name "$(APP_NAME)"
OutFile "${OUTFILE}"
InstallDir "$PROGRAMFILES64\${APP}"
BrandingText "$(APP_NAME) ${VERSION}"
ShowInstDetails show
ShowUninstDetails show

VIProductVersion "${VERSION}.0"
VIAddVersionKey /LANG=0 "ProductName" "考试客户端 Exam Client"
VIAddVersionKey /LANG=0 "FileDescription" "考试客户端安装程序 Exam Client setup"
VIAddVersionKey /LANG=0 "FileVersion" "${VERSION}"
VIAddVersionKey /LANG=0 "ProductVersion" "${VERSION}"
VIAddVersionKey /LANG=0 "LegalCopyright" "Exam Client"

Var ConfigFile   ; /CONFIG, absolute
Var ServerUrl    ; /SERVER
Var CenterId     ; /CENTER
Var CaFile       ; /CAFILE or [server] ca_file of center.ini, absolute
Var DataDir      ; answer data folder
Var RenderLevel  ; /RENDERLEVEL
Var Purge        ; uninstaller: 1 = delete the answer data too
Var LogFile      ; UTF-8 install log
Var DataCreated  ; 1 when this installation created the data folder
Var ExitCode     ; 0, or EXIT_DATA_ON_SYSTEM_DRIVE after a complete installation

; -- pages -------------------------------------------------------------------------------

!define MUI_ABORTWARNING
!insertmacro MUI_PAGE_DIRECTORY

!define MUI_PAGE_HEADER_TEXT "$(DATA_PAGE_TITLE)"
!define MUI_PAGE_HEADER_SUBTEXT "$(DATA_PAGE_SUBTITLE)"
!define MUI_DIRECTORYPAGE_TEXT_TOP "$(DATA_PAGE_TEXT)"
!define MUI_DIRECTORYPAGE_TEXT_DESTINATION "$(DATA_PAGE_LABEL)"
!define MUI_DIRECTORYPAGE_VARIABLE $DataDir
!define MUI_DIRECTORYPAGE_VERIFYONLEAVE
!define MUI_PAGE_CUSTOMFUNCTION_LEAVE DataPageLeave
!insertmacro MUI_PAGE_DIRECTORY

!insertmacro MUI_PAGE_INSTFILES

!insertmacro MUI_UNPAGE_CONFIRM
!insertmacro MUI_UNPAGE_INSTFILES

!insertmacro MUI_LANGUAGE "SimpChinese"
!insertmacro MUI_LANGUAGE "English"

; -- texts -------------------------------------------------------------------------------

LangString APP_NAME ${LANG_SIMPCHINESE} "考试客户端"
LangString APP_NAME ${LANG_ENGLISH} "Exam Client"
LangString CHECK_NAME ${LANG_SIMPCHINESE} "考前检查"
LangString CHECK_NAME ${LANG_ENGLISH} "Readiness check"
LangString MSG_OLD_WINDOWS ${LANG_SIMPCHINESE} "考试客户端需要 Windows 10 或 Windows 11（64 位）。$\r$\n本机的 Windows 版本过旧（图形界面库 Qt 6 和 Python 已不支持 Windows 7/8），安装已取消，没有复制任何文件。"
LangString MSG_OLD_WINDOWS ${LANG_ENGLISH} "Exam Client needs Windows 10 or Windows 11 (64-bit).$\r$\nThis Windows is too old (Qt 6 and current Python no longer support Windows 7/8). Nothing was installed."
LangString MSG_NOT_64BIT ${LANG_SIMPCHINESE} "考试客户端需要 64 位 Windows。本机是 32 位 Windows，安装已取消。"
LangString MSG_NOT_64BIT ${LANG_ENGLISH} "Exam Client needs 64-bit Windows. This PC runs 32-bit Windows; nothing was installed."
LangString MSG_NOT_ADMIN ${LANG_SIMPCHINESE} "请用管理员账户运行安装程序（右键 → 以管理员身份运行）。"
LangString MSG_NOT_ADMIN ${LANG_ENGLISH} "Please run the installer as an administrator (right-click → Run as administrator)."
LangString MSG_FILE_MISSING ${LANG_SIMPCHINESE} "找不到文件："
LangString MSG_FILE_MISSING ${LANG_ENGLISH} "File not found: "
LangString MSG_BAD_LEVEL ${LANG_SIMPCHINESE} "/RENDERLEVEL 只能是 auto、0、1 或 2，收到："
LangString MSG_BAD_LEVEL ${LANG_ENGLISH} "/RENDERLEVEL must be auto, 0, 1 or 2, got: "
LangString MSG_BAD_SERVER ${LANG_SIMPCHINESE} "/SERVER 必须是 https:// 或 http:// 开头、不含空格的地址，收到："
LangString MSG_BAD_SERVER ${LANG_ENGLISH} "/SERVER must be an address starting with https:// or http://, without spaces, got: "
LangString MSG_BAD_CENTER ${LANG_SIMPCHINESE} "/CENTER 只能包含字母、数字、点、下划线和连字符，收到："
LangString MSG_BAD_CENTER ${LANG_ENGLISH} "/CENTER may only contain letters, digits, dots, underscores and hyphens, got: "
LangString MSG_BAD_DATADIR ${LANG_SIMPCHINESE} "/DATADIR 必须是完整路径（例如 D:\ExamClientData），收到："
LangString MSG_BAD_DATADIR ${LANG_ENGLISH} "/DATADIR must be a full path (for example D:\ExamClientData), got: "
LangString MSG_RUNNING ${LANG_SIMPCHINESE} "考试客户端正在运行，不能更新。请先关闭本机所有考试客户端窗口（考试期间请勿更新），然后重新运行安装程序。没有改动任何文件。"
LangString MSG_RUNNING ${LANG_ENGLISH} "Exam Client is running and cannot be updated. Close every Exam Client window on this PC (never update during an exam) and run the installer again. Nothing was changed."
LangString LOG_PURGE_REFUSED ${LANG_SIMPCHINESE} "保留数据目录（不是安装程序创建的，或不是安全的删除位置）："
LangString LOG_PURGE_REFUSED ${LANG_ENGLISH} "Data folder kept (not created by the installer, or not a safe folder to delete): "
LangString DATA_PAGE_TITLE ${LANG_SIMPCHINESE} "答案数据目录"
LangString DATA_PAGE_TITLE ${LANG_ENGLISH} "Answer data folder"
LangString DATA_PAGE_SUBTITLE ${LANG_SIMPCHINESE} "考生答案先保存在本机这个目录中。"
LangString DATA_PAGE_SUBTITLE ${LANG_ENGLISH} "Candidates' answers are saved in this folder first."
LangString DATA_PAGE_TEXT ${LANG_SIMPCHINESE} "如果机房装有还原卡或还原软件，请选择不会被还原的分区（例如 D:\ExamClientData）。放在被还原的系统盘上，断电重启后答案数据会丢失。"
LangString DATA_PAGE_TEXT ${LANG_ENGLISH} "If this lab uses restore cards or restore software, choose a drive that is not reset (for example D:\ExamClientData). On a drive that is reset, answers are lost after a power cut and reboot."
LangString DATA_PAGE_LABEL ${LANG_SIMPCHINESE} "数据目录"
LangString DATA_PAGE_LABEL ${LANG_ENGLISH} "Data folder"
LangString MSG_SYSTEM_DRIVE ${LANG_SIMPCHINESE} "数据目录在系统盘上。如果系统盘装有还原软件，重启后答案数据会被清空。仍然使用这个目录吗？"
LangString MSG_SYSTEM_DRIVE ${LANG_ENGLISH} "The data folder is on the system drive. If restore software resets that drive, answers are wiped at reboot. Use this folder anyway?"
LangString LOG_SYSTEM_DRIVE ${LANG_SIMPCHINESE} "警告：数据目录在系统盘上，若装有还原软件，重启后答案数据会被清空："
LangString LOG_SYSTEM_DRIVE ${LANG_ENGLISH} "Warning: the data folder is on the system drive; restore software would wipe answers at reboot: "
LangString LOG_CONFIG_ACL_FAILED ${LANG_SIMPCHINESE} "警告：未能把配置目录设为仅管理员可修改（icacls 返回 "
LangString LOG_CONFIG_ACL_FAILED ${LANG_ENGLISH} "Warning: could not make the config folder admin-only (icacls returned "
LangString LOG_ACL_FAILED ${LANG_SIMPCHINESE} "警告：未能给“用户”组设置数据目录的修改权限（icacls 返回 "
LangString LOG_ACL_FAILED ${LANG_ENGLISH} "Warning: could not give the Users group modify rights on the data folder (icacls returned "
LangString MSG_DELETE_DATA ${LANG_SIMPCHINESE} "是否同时删除答案数据目录？$\r$\n$DataDir$\r$\n未上传的答案会永久丢失。一般请选择“否”。"
LangString MSG_DELETE_DATA ${LANG_ENGLISH} "Also delete the answer data folder?$\r$\n$DataDir$\r$\nAnswers not yet uploaded are lost for good. Normally choose No."

; -- helpers -----------------------------------------------------------------------------

; Write one line as UTF-8 to an open file handle. FileWrite would convert to the ANSI code
; page, and user.ini is read as UTF-8 (a Chinese folder name must survive).
!macro WriteUTF8Line HANDLE TEXT
  Push `${TEXT}`
  Push ${HANDLE}
  !ifdef __UNINSTALL__
    Call un.WriteUTF8Line
  !else
    Call WriteUTF8Line
  !endif
!macroend

!macro DefineWriteUTF8Line PREFIX
Function ${PREFIX}WriteUTF8Line
  Exch $R1  ; handle
  Exch
  Exch $R0  ; text
  Push $R2
  Push $R3
  Push $R4
  StrCpy $R0 "$R0$\r$\n"
  System::Call 'kernel32::WideCharToMultiByte(i 65001, i 0, w R0, i -1, p 0, i 0, p 0, p 0) i .R2'
  System::Alloc $R2
  Pop $R3
  System::Call 'kernel32::WideCharToMultiByte(i 65001, i 0, w R0, i -1, p R3, i R2, p 0, p 0) i .R2'
  IntOp $R2 $R2 - 1  ; without the terminating NUL
  System::Call 'kernel32::WriteFile(p R1, p R3, i R2, *i .R4, p 0) i .R4'
  System::Free $R3
  Pop $R4
  Pop $R3
  Pop $R2
  Pop $R0
  Pop $R1
FunctionEnd
!macroend
!insertmacro DefineWriteUTF8Line ""
!insertmacro DefineWriteUTF8Line "un."

; The value of one option (e.g. "/SERVER=") in the installer's parameters; the error
; flag is set when the option is absent. ${GetOptions} cannot be used: it ends a value at
; the next "/", so /SERVER=https://exam.example.edu.cn gave "https:". Here a value ends at
; the next space, or at the closing quote of /NAME="..." or "/NAME=...".
!macro GetOption PARAMS NAME OUT
  Push `${PARAMS}`
  Push `${NAME}`
  Call GetOption
  StrCpy ${OUT} $OptValue
  StrCmp $OptFound 1 +2
  SetErrors
!macroend

Var OptValue  ; GetOption's result
Var OptFound  ; 1 when the option was given
Var CharsOk   ; OnlyChars' result

Function GetOption
  Exch $R1  ; name, "/SERVER="
  Exch
  Exch $R0  ; parameters
  Push $R2
  Push $R3
  Push $R4
  Push $R5
  Push $R7
  StrLen $R3 $R1
  StrLen $R5 $R0
  StrCpy $R2 0
  StrCpy $OptValue ""
  StrCpy $OptFound 0
  search:
    IntCmp $R2 $R5 finish 0 finish
    StrCpy $R4 $R0 $R3 $R2
    StrCmp $R4 $R1 0 next  ; StrCmp ignores case: /server= works too
    IntCmp $R2 0 found
    IntOp $R7 $R2 - 1
    StrCpy $R4 $R0 1 $R7
    StrCmp $R4 " " found
    StrCmp $R4 '"' found
  next:
    IntOp $R2 $R2 + 1
    Goto search
  found:
    StrCpy $OptFound 1
    StrCpy $R7 " "  ; the character that ends the value
    IntCmp $R2 0 value_start
    IntOp $R4 $R2 - 1
    StrCpy $R4 $R0 1 $R4
    StrCmp $R4 '"' 0 value_start
    StrCpy $R7 '"'  ; "/NAME=value"
  value_start:
    IntOp $R2 $R2 + $R3
    StrCmp $R7 '"' copy
    StrCpy $R4 $R0 1 $R2
    StrCmp $R4 '"' 0 copy
    StrCpy $R7 '"'  ; /NAME="value"
    IntOp $R2 $R2 + 1
  copy:
    IntCmp $R2 $R5 finish 0 finish
    StrCpy $R4 $R0 1 $R2
    StrCmp $R4 $R7 finish
    StrCpy $OptValue "$OptValue$R4"
    IntOp $R2 $R2 + 1
    Goto copy
  finish:
  Pop $R7
  Pop $R5
  Pop $R4
  Pop $R3
  Pop $R2
  Pop $R0
  Pop $R1
FunctionEnd

; $CharsOk = 1 when every character of TEXT is in ALLOWED (StrCmp ignores case).
!macro OnlyChars TEXT ALLOWED
  Push `${TEXT}`
  Push `${ALLOWED}`
  Call OnlyChars
!macroend

Function OnlyChars
  Exch $R1  ; allowed
  Exch
  Exch $R0  ; text
  Push $R2
  Push $R3
  Push $R4
  Push $R5
  Push $R6
  StrCpy $CharsOk 1
  StrCpy $R2 0
  StrLen $R5 $R0
  loop:
    IntCmp $R2 $R5 end 0 end
    StrCpy $R3 $R0 1 $R2
    StrCpy $R4 0
    inner:
      StrCpy $R6 $R1 1 $R4
      StrCmp $R6 "" bad
      StrCmp $R6 $R3 next_char
      IntOp $R4 $R4 + 1
      Goto inner
    next_char:
    IntOp $R2 $R2 + 1
    Goto loop
  bad:
    StrCpy $CharsOk 0
  end:
  Pop $R6
  Pop $R5
  Pop $R4
  Pop $R3
  Pop $R2
  Pop $R0
  Pop $R1
FunctionEnd

; Append one line to the UTF-8 install log (and the details list).
!macro Log TEXT
  DetailPrint `${TEXT}`
  Push `${TEXT}`
  !ifdef __UNINSTALL__
    Call un.AppendLog
  !else
    Call AppendLog
  !endif
!macroend

!macro DefineAppendLog PREFIX
Function ${PREFIX}AppendLog
  Exch $R0
  Push $R1
  ${If} $LogFile == ""
    StrCpy $LogFile "$TEMP\${LOG_NAME}"
  ${EndIf}
  ClearErrors
  FileOpen $R1 $LogFile a
  ${IfNot} ${Errors}
    FileSeek $R1 0 END
    !insertmacro WriteUTF8Line $R1 "[${VERSION}] $R0"
    FileClose $R1
  ${EndIf}
  Pop $R1
  Pop $R0
FunctionEnd
!macroend
!insertmacro DefineAppendLog ""
!insertmacro DefineAppendLog "un."

!macro FailWith CODE TEXT
  !insertmacro Log "exit ${CODE}: ${TEXT}"
  MessageBox MB_OK|MB_ICONSTOP "${TEXT}" /SD IDOK
  SetErrorLevel ${CODE}
  Quit
!macroend
!include "ucrt.nsh"

; 1 in $R7 when drive $R8 ("D:") is an internal disk: Windows calls USB and card-reader
; disks "fixed" too, so the bus type is asked (IOCTL_STORAGE_QUERY_PROPERTY). A drive that
; does not answer the query counts as internal.
Function IsInternalDisk
  Push $0
  Push $1
  Push $2
  Push $3
  StrCpy $R7 1
  System::Call 'kernel32::CreateFileW(w "\\.\$R8", i 0, i 3, p 0, i 3, i 0, p 0) p .r0'
  ${If} $0 != -1
  ${AndIf} $0 != 0
    System::Alloc 1024
    Pop $1
    ; STORAGE_PROPERTY_QUERY {StorageDeviceProperty=0, PropertyStandardQuery=0}: 12 bytes
    System::Call 'kernel32::DeviceIoControl(p r0, i 0x2D1400, *l 0, i 12, p r1, i 1024, *i .r2, p 0) i .r3'
    ${If} $3 != 0
      ; STORAGE_DEVICE_DESCRIPTOR: RemovableMedia at byte 10, BusType (DWORD) at byte 28
      IntOp $2 $1 + 10
      System::Call '*$2(&i1 .r3)'
      ${If} $3 != 0
        StrCpy $R7 0
      ${EndIf}
      IntOp $2 $1 + 28
      System::Call '*$2(i .r3)'
      ; BusType1394 = 4, BusTypeUsb = 7, BusTypeSd = 12, BusTypeMmc = 13
      ${If} $3 == 4
      ${OrIf} $3 == 7
      ${OrIf} $3 == 12
      ${OrIf} $3 == 13
        StrCpy $R7 0
      ${EndIf}
    ${EndIf}
    System::Free $1
    System::Call 'kernel32::CloseHandle(p r0)'
  ${EndIf}
  Pop $3
  Pop $2
  Pop $1
  Pop $0
FunctionEnd

; GetDrives callback: the first fixed internal drive that is not the system drive.
Function FirstDataDrive
  StrCpy $R9 $WINDIR 2
  StrCpy $R8 $9 2
  ${If} $R8 != $R9
  ${AndIf} $DataDir == ""
    Call IsInternalDisk
    ${If} $R7 == 1
      StrCpy $DataDir "$R8\${APP}Data"
      Push "StopGetDrives"
      Return
    ${EndIf}
    !insertmacro Log "skipped $R8 for the data folder: a removable (USB/card) disk"
  ${EndIf}
  Push $0
FunctionEnd

Function DataPageLeave
  StrCpy $R9 $WINDIR 2
  StrCpy $R8 $DataDir 2
  ${If} $R8 == $R9
    MessageBox MB_YESNO|MB_ICONEXCLAMATION "$(MSG_SYSTEM_DRIVE)" /SD IDYES IDYES +2
    Abort  ; stay on the page
  ${EndIf}
FunctionEnd

; -- install -----------------------------------------------------------------------------

Function .onInit
  ; Before anything else, and before a single file is copied.
  ${IfNot} ${AtLeastWin10}
    !insertmacro FailWith ${EXIT_OLD_WINDOWS} "$(MSG_OLD_WINDOWS)"
  ${EndIf}
  ${IfNot} ${RunningX64}
    !insertmacro FailWith ${EXIT_NOT_64BIT} "$(MSG_NOT_64BIT)"
  ${EndIf}
  !insertmacro CheckUcrt
  UserInfo::GetAccountType
  Pop $0
  ${If} $0 != "admin"
    !insertmacro FailWith ${EXIT_NOT_ADMIN} "$(MSG_NOT_ADMIN)"
  ${EndIf}
  SetRegView 64
  SetShellVarContext all  ; per machine: ProgramData, all users' Start menu and desktop

  ${GetParameters} $R0
  !insertmacro GetOption $R0 "/CONFIG=" $ConfigFile
  !insertmacro GetOption $R0 "/SERVER=" $ServerUrl
  !insertmacro GetOption $R0 "/CENTER=" $CenterId
  !insertmacro GetOption $R0 "/CAFILE=" $CaFile
  !insertmacro GetOption $R0 "/DATADIR=" $DataDir
  !insertmacro GetOption $R0 "/RENDERLEVEL=" $RenderLevel
  ClearErrors

  ; An upgrade without options keeps the options of the previous installation.
  ${If} $ServerUrl == ""
    ReadRegStr $ServerUrl HKLM "${APP_KEY}" "Server"
  ${EndIf}
  ${If} $CenterId == ""
    ReadRegStr $CenterId HKLM "${APP_KEY}" "Center"
  ${EndIf}
  ${If} $RenderLevel == ""
    ReadRegStr $RenderLevel HKLM "${APP_KEY}" "RenderLevel"
  ${EndIf}

  ${If} $ServerUrl != ""
    StrCpy $R1 $ServerUrl 8
    StrCpy $R2 $ServerUrl 7
    StrLen $R3 $ServerUrl
    ${If} $R1 != "https://"
    ${AndIf} $R2 != "http://"
      !insertmacro FailWith ${EXIT_BAD_OPTION} "$(MSG_BAD_SERVER)$ServerUrl"
    ${EndIf}
    ${If} $R3 < 10
      !insertmacro FailWith ${EXIT_BAD_OPTION} "$(MSG_BAD_SERVER)$ServerUrl"
    ${EndIf}
    !insertmacro OnlyChars $ServerUrl "abcdefghijklmnopqrstuvwxyz0123456789-._~:/?#[]@!$$&'()*+,;=%"
    ${If} $CharsOk != 1
      !insertmacro FailWith ${EXIT_BAD_OPTION} "$(MSG_BAD_SERVER)$ServerUrl"
    ${EndIf}
  ${EndIf}
  ${If} $CenterId != ""
    !insertmacro OnlyChars $CenterId "abcdefghijklmnopqrstuvwxyz0123456789._-"
    ${If} $CharsOk != 1
      !insertmacro FailWith ${EXIT_BAD_OPTION} "$(MSG_BAD_CENTER)$CenterId"
    ${EndIf}
  ${EndIf}
  ${If} $DataDir != ""
    StrCpy $R1 $DataDir 2 1
    StrCpy $R2 $DataDir 2
    ${If} $R1 != ":\"
    ${AndIf} $R2 != "\\"
      !insertmacro FailWith ${EXIT_BAD_OPTION} "$(MSG_BAD_DATADIR)$DataDir"
    ${EndIf}
  ${EndIf}

  ${If} $ConfigFile != ""
    GetFullPathName $ConfigFile $ConfigFile
    ${IfNot} ${FileExists} $ConfigFile
      !insertmacro FailWith ${EXIT_FILE_MISSING} "$(MSG_FILE_MISSING)$ConfigFile"
    ${EndIf}
    ; Only the values the installer acts on are read here (folder to create, CA file to
    ; copy); the client reads the whole file itself as UTF-8.
    ${If} $DataDir == ""
      ReadINIStr $DataDir $ConfigFile "data" "directory"
    ${EndIf}
    ${If} $CaFile == ""
      ReadINIStr $CaFile $ConfigFile "server" "ca_file"
      ${If} $CaFile != ""
        ${GetParent} $ConfigFile $R1
        StrCpy $R2 $CaFile 2 1
        StrCpy $R3 $CaFile 2
        ${If} $R2 != ":\"
        ${AndIf} $R3 != "\\"
          StrCpy $CaFile "$R1\$CaFile"  ; relative: to center.ini's folder
        ${EndIf}
      ${EndIf}
    ${EndIf}
  ${EndIf}
  ${If} $CaFile != ""
    GetFullPathName $CaFile $CaFile
    ${IfNot} ${FileExists} $CaFile
      !insertmacro FailWith ${EXIT_FILE_MISSING} "$(MSG_FILE_MISSING)$CaFile"
    ${EndIf}
  ${EndIf}
  ${If} $RenderLevel != ""
  ${AndIf} $RenderLevel != "auto"
  ${AndIf} $RenderLevel != "0"
  ${AndIf} $RenderLevel != "1"
  ${AndIf} $RenderLevel != "2"
    !insertmacro FailWith ${EXIT_BAD_OPTION} "$(MSG_BAD_LEVEL)$RenderLevel"
  ${EndIf}

  ; An update keeps the installed CA file (before 0.2 it was in the install folder).
  ReadRegDWORD $R1 HKLM "${APP_KEY}" "CaInstalled"
  ${If} $CaFile == ""
  ${AndIf} $R1 == 1
    ${If} ${FileExists} "$APPDATA\${APP}\${CA_NAME}"
      StrCpy $CaFile "$APPDATA\${APP}\${CA_NAME}"
    ${ElseIf} ${FileExists} "$INSTDIR\${CA_NAME}"
      StrCpy $CaFile "$INSTDIR\${CA_NAME}"
    ${EndIf}
  ${EndIf}
  ${If} $DataDir == ""
    ReadRegStr $DataDir HKLM "${APP_KEY}" "DataDir"  ; an update keeps the folder in use
  ${EndIf}
  ${If} $DataDir == ""
    ${GetDrives} "HDD" "FirstDataDrive"
  ${EndIf}
  ${If} $DataDir == ""
    StrCpy $DataDir "$APPDATA\${APP}\data"  ; only a system drive: C:\ProgramData\ExamClient
  ${EndIf}
  ; From here on the log goes next to the data folder.
  ${GetParent} $DataDir $R1
  CreateDirectory $R1
  StrCpy $LogFile "$R1\${LOG_NAME}"
  !insertmacro Log "installer started: $R0"
  !insertmacro Log "data folder: $DataDir"
FunctionEnd

Function WriteOverrides
  ; C:\ProgramData\ExamClient\installer.ini: what this installation chose. It wins over
  ; the center configuration (user.ini beside it) key by key (client/config). A file of its
  ; own, not merged into user.ini: NSIS reads and writes text in the ANSI code page and
  ; would garble center.ini's Chinese comments; the client merges the two by key.
  ; Deleted first: a file a candidate planted keeps its own ACL when merely overwritten.
  Delete "$APPDATA\${APP}\${INSTALLER_INI}"
  FileOpen $R0 "$APPDATA\${APP}\${INSTALLER_INI}" w
  !insertmacro WriteUTF8Line $R0 "; 考试客户端：安装程序写入的设置，优先于同目录的 user.ini（考点配置）"
  !insertmacro WriteUTF8Line $R0 "; Exam Client: written by the installer; wins over the center configuration"
  !insertmacro WriteUTF8Line $R0 "[server]"
  ${If} $ServerUrl != ""
    !insertmacro WriteUTF8Line $R0 "url = $ServerUrl"
  ${EndIf}
  ${If} $CenterId != ""
    !insertmacro WriteUTF8Line $R0 "center_id = $CenterId"
  ${EndIf}
  ${If} $CaFile != ""
    ; relative: the CA file copied beside this file (client.config.loader)
    !insertmacro WriteUTF8Line $R0 "ca_file = center-ca.pem"
  ${EndIf}
  !insertmacro WriteUTF8Line $R0 "[data]"
  !insertmacro WriteUTF8Line $R0 "directory = $DataDir"
  !insertmacro WriteUTF8Line $R0 "[OpenGL]"
  ${If} $RenderLevel != ""
    !insertmacro WriteUTF8Line $R0 "Level = $RenderLevel"
  ${EndIf}
  FileClose $R0
FunctionEnd

; C:\ProgramData\ExamClient: Windows lets every user create files in a new ProgramData
; folder (and own them), so a candidate could plant user.ini there. Inheritance off;
; Administrators and SYSTEM full control, Users read only; a file already there (planted
; before this installation) gets the Administrators as owner and the folder's ACL.
!macro ResetToFolderAcl NAME
  ${If} ${FileExists} "$APPDATA\${APP}\${NAME}"
    nsExec::ExecToLog '"$SYSDIR\icacls.exe" "$APPDATA\${APP}\${NAME}" /setowner *S-1-5-32-544'
    Pop $0
    nsExec::ExecToLog '"$SYSDIR\icacls.exe" "$APPDATA\${APP}\${NAME}" /reset'
    Pop $0
  ${EndIf}
!macroend
Function ProtectConfigFolder
  CreateDirectory "$APPDATA\${APP}"
  nsExec::ExecToLog '"$SYSDIR\icacls.exe" "$APPDATA\${APP}" /inheritance:r /grant:r *S-1-5-18:(OI)(CI)F *S-1-5-32-544:(OI)(CI)F ${USERS_SID}:(OI)(CI)RX'
  Pop $0
  ${If} $0 != 0
    !insertmacro Log "$(LOG_CONFIG_ACL_FAILED)$0)"
  ${EndIf}
  !insertmacro ResetToFolderAcl "user.ini"
  !insertmacro ResetToFolderAcl "${INSTALLER_INI}"
  !insertmacro ResetToFolderAcl "${CA_NAME}"
  !insertmacro Log "config folder: $APPDATA\${APP} (Administrators, SYSTEM: full; Users: read)"
FunctionEnd

; 1 in $R7 when the client of this folder is running: Windows does not let a running
; program's file be opened for writing (sharing violation).
Function ClientRunning
  StrCpy $R7 0
  StrCpy $R6 "ExamClient.exe"
  again:
    ${If} ${FileExists} "$INSTDIR\$R6"
      ClearErrors
      FileOpen $R5 "$INSTDIR\$R6" a
      ${If} ${Errors}
        StrCpy $R7 1
      ${Else}
        FileClose $R5
      ${EndIf}
    ${EndIf}
    ${If} $R6 == "ExamClient.exe"
      StrCpy $R6 "ExamClient-console.exe"
      Goto again
    ${EndIf}
  ClearErrors
FunctionEnd

Section "Install"
  StrCpy $ExitCode 0
  ; Before anything is replaced: a running client keeps its files open, and replacing
  ; _internal under it would break the exam in progress.
  Call ClientRunning
  ${If} $R7 == 1
    !insertmacro FailWith ${EXIT_CLIENT_RUNNING} "$(MSG_RUNNING)"
  ${EndIf}

  SetOutPath "$INSTDIR"
  ; An update replaces the program; user.ini and the data folder are rewritten/kept below.
  RMDir /r "$INSTDIR\_internal"
  File /r "${PAYLOAD}\*"
  File "/oname=$INSTDIR\exam-client.ico" "${ICON}"
  !insertmacro Log "program files installed in $INSTDIR"

  Call ProtectConfigFolder
  ${If} $ConfigFile != ""
    Delete "$APPDATA\${APP}\user.ini"  ; a fresh file inherits the admin-only ACL
    CopyFiles /SILENT "$ConfigFile" "$APPDATA\${APP}\user.ini"
    WriteRegDWORD HKLM "${APP_KEY}" "CenterConfigInstalled" 1
    !insertmacro Log "center configuration: $ConfigFile -> $APPDATA\${APP}\user.ini"
  ${EndIf}
  ${If} $CaFile != ""
    ${If} $CaFile != "$APPDATA\${APP}\${CA_NAME}"
      Delete "$APPDATA\${APP}\${CA_NAME}"
      CopyFiles /SILENT "$CaFile" "$APPDATA\${APP}\${CA_NAME}"
    ${EndIf}
    WriteRegDWORD HKLM "${APP_KEY}" "CaInstalled" 1
    !insertmacro Log "CA file: $CaFile -> $APPDATA\${APP}\${CA_NAME}"
  ${EndIf}
  ; The previous versions' overrides beside the program: the client no longer takes the
  ; server from there (a portable copy's folder can be writable), installer.ini replaces it.
  Delete "$INSTDIR\user.ini"
  Delete "$INSTDIR\${CA_NAME}"
  Call WriteOverrides
  !insertmacro Log "settings: url=$ServerUrl center_id=$CenterId OpenGL Level=$RenderLevel"

  ; /PURGE later deletes the data folder only if this installer created it (marker file
  ; and registry both say so).
  ReadRegDWORD $DataCreated HKLM "${APP_KEY}" "DataDirCreated"
  ReadRegStr $R1 HKLM "${APP_KEY}" "DataDir"
  ${If} $R1 != $DataDir
    StrCpy $DataCreated 0
  ${EndIf}
  ${IfNot} ${FileExists} "$DataDir\*.*"
    CreateDirectory "$DataDir"
    FileOpen $R0 "$DataDir\${DATA_MARKER}" w
    !insertmacro WriteUTF8Line $R0 "created by the Exam Client installer ${VERSION}"
    FileClose $R0
    SetFileAttributes "$DataDir\${DATA_MARKER}" HIDDEN
    StrCpy $DataCreated 1
    !insertmacro Log "data folder created: $DataDir"
  ${EndIf}
  ; Candidates log on as standard users: they must be able to write their answers here.
  nsExec::ExecToLog '"$SYSDIR\icacls.exe" "$DataDir" /grant ${USERS_SID}:(OI)(CI)M'
  Pop $0
  ${If} $0 != 0
    !insertmacro Log "$(LOG_ACL_FAILED)$0)"
  ${EndIf}
  StrCpy $R9 $WINDIR 2
  StrCpy $R8 $DataDir 2
  ${If} $R8 == $R9
    !insertmacro Log "$(LOG_SYSTEM_DRIVE)$DataDir"
    StrCpy $ExitCode ${EXIT_DATA_ON_SYSTEM_DRIVE}
  ${EndIf}

  ; Chinese names on every display language (SHORTCUT_APP, SHORTCUT_CHECK above).
  CreateDirectory "$SMPROGRAMS\${SHORTCUT_APP}"
  CreateShortcut "$SMPROGRAMS\${SHORTCUT_APP}\${SHORTCUT_APP}.lnk" "$INSTDIR\ExamClient.exe" "" "$INSTDIR\exam-client.ico"
  CreateShortcut "$SMPROGRAMS\${SHORTCUT_APP}\${SHORTCUT_CHECK}.lnk" "$INSTDIR\ExamClient.exe" "check --gui" "$INSTDIR\exam-client.ico"
  CreateShortcut "$DESKTOP\${SHORTCUT_APP}.lnk" "$INSTDIR\ExamClient.exe" "" "$INSTDIR\exam-client.ico"

  WriteRegStr HKLM "${APP_KEY}" "InstallDir" "$INSTDIR"
  WriteRegStr HKLM "${APP_KEY}" "DataDir" "$DataDir"
  WriteRegDWORD HKLM "${APP_KEY}" "DataDirCreated" $DataCreated
  WriteRegStr HKLM "${APP_KEY}" "Version" "${VERSION}"
  WriteRegStr HKLM "${APP_KEY}" "Server" "$ServerUrl"
  WriteRegStr HKLM "${APP_KEY}" "Center" "$CenterId"
  WriteRegStr HKLM "${APP_KEY}" "RenderLevel" "$RenderLevel"
  WriteRegStr HKLM "${APP_KEY}" "StartMenuFolder" "$SMPROGRAMS\${SHORTCUT_APP}"
  WriteRegStr HKLM "${APP_KEY}" "DesktopShortcut" "$DESKTOP\${SHORTCUT_APP}.lnk"

  WriteUninstaller "$INSTDIR\uninstall.exe"
  WriteRegStr HKLM "${UNINST_KEY}" "DisplayName" "${SHORTCUT_APP} Exam Client"
  WriteRegStr HKLM "${UNINST_KEY}" "DisplayVersion" "${VERSION}"
  WriteRegStr HKLM "${UNINST_KEY}" "Publisher" "Exam Client"
  WriteRegStr HKLM "${UNINST_KEY}" "DisplayIcon" "$INSTDIR\exam-client.ico"
  WriteRegStr HKLM "${UNINST_KEY}" "InstallLocation" "$INSTDIR"
  WriteRegStr HKLM "${UNINST_KEY}" "UninstallString" '"$INSTDIR\uninstall.exe"'
  ; _?= runs the uninstaller in place, so the command returns when it has finished
  WriteRegStr HKLM "${UNINST_KEY}" "QuietUninstallString" '"$INSTDIR\uninstall.exe" /S _?=$INSTDIR'
  WriteRegDWORD HKLM "${UNINST_KEY}" "NoModify" 1
  WriteRegDWORD HKLM "${UNINST_KEY}" "NoRepair" 1
  ${GetSize} "$INSTDIR" "/S=0K" $0 $1 $2
  WriteRegDWORD HKLM "${UNINST_KEY}" "EstimatedSize" $0
  !insertmacro Log "installed ${VERSION}, exit code $ExitCode"
  SetErrorLevel $ExitCode
SectionEnd

; -- uninstall ---------------------------------------------------------------------------

Function un.onInit
  UserInfo::GetAccountType
  Pop $0
  ${If} $0 != "admin"
    !insertmacro FailWith ${EXIT_NOT_ADMIN} "$(MSG_NOT_ADMIN)"
  ${EndIf}
  SetRegView 64
  SetShellVarContext all
  ReadRegStr $DataDir HKLM "${APP_KEY}" "DataDir"
  StrCpy $Purge 0
  ${GetParameters} $R0
  ClearErrors
  ${GetOptions} $R0 "/PURGE" $R1
  ${IfNot} ${Errors}
    StrCpy $Purge 1
  ${EndIf}
FunctionEnd

; 1 in $R7 when $DataDir may be deleted: this installer created it (registry and marker
; file agree) and it is not a drive root, the Windows folder or a program folder.
Function un.SafeToPurge
  StrCpy $R7 0
  ReadRegDWORD $R6 HKLM "${APP_KEY}" "DataDirCreated"
  StrLen $R5 $DataDir
  ${If} $R6 == 1
  ${AndIf} ${FileExists} "$DataDir\${DATA_MARKER}"
  ${AndIf} $R5 > 3
  ${AndIf} $DataDir != $WINDIR
  ${AndIf} $DataDir != $PROGRAMFILES
  ${AndIf} $DataDir != $PROGRAMFILES64
  ${AndIf} $DataDir != $INSTDIR
  ${AndIf} $DataDir != $APPDATA
  ${AndIf} $DataDir != $PROFILE
    StrCpy $R7 1
  ${EndIf}
FunctionEnd

Section "Uninstall"
  ${GetParent} $DataDir $R1
  StrCpy $LogFile "$R1\${LOG_NAME}"
  !insertmacro Log "uninstall started (purge=$Purge)"
  ReadRegStr $0 HKLM "${APP_KEY}" "StartMenuFolder"
  ${If} $0 != ""
    RMDir /r "$0"
  ${EndIf}
  ReadRegStr $0 HKLM "${APP_KEY}" "DesktopShortcut"
  ${If} $0 != ""
    Delete "$0"
  ${EndIf}
  ReadRegDWORD $0 HKLM "${APP_KEY}" "CenterConfigInstalled"
  ${If} $0 == 1
    Delete "$APPDATA\${APP}\user.ini"
  ${EndIf}
  Delete "$APPDATA\${APP}\${INSTALLER_INI}"
  Delete "$APPDATA\${APP}\${CA_NAME}"
  RMDir "$APPDATA\${APP}"  ; only if empty: per-PC state files stay

  ; Never a recursive delete of the install folder: an admin may have put the data
  ; folder inside it.
  RMDir /r "$INSTDIR\_internal"
  Delete "$INSTDIR\ExamClient.exe"
  Delete "$INSTDIR\ExamClient-console.exe"
  Delete "$INSTDIR\exam-client.ico"
  Delete "$INSTDIR\user.ini"
  Delete "$INSTDIR\center-ca.pem"
  Delete "$INSTDIR\uninstall.exe"  ; (kept by Windows when run in place with _?=)

  ${If} $DataDir != ""
    ${If} $Purge == 0
      MessageBox MB_YESNO|MB_ICONQUESTION|MB_DEFBUTTON2 "$(MSG_DELETE_DATA)" /SD IDNO IDNO keep_data
      StrCpy $Purge 1
      keep_data:
    ${EndIf}
    ${If} $Purge == 1
      Call un.SafeToPurge
      ${If} $R7 == 1
        RMDir /r "$DataDir"
        !insertmacro Log "data folder deleted: $DataDir"
      ${Else}
        !insertmacro Log "$(LOG_PURGE_REFUSED)$DataDir"
      ${EndIf}
    ${Else}
      !insertmacro Log "data folder kept: $DataDir"
    ${EndIf}
  ${EndIf}
  RMDir "$INSTDIR"

  DeleteRegKey HKLM "${UNINST_KEY}"
  DeleteRegKey HKLM "${APP_KEY}"
  !insertmacro Log "uninstalled"
SectionEnd
