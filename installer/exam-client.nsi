; 考试客户端安装程序 / Exam Client installer (NSIS 3, Unicode).
;
; Build (Windows release, or Linux CI with Debian's nsis package):
;   makensis -DVERSION=0.1.0 -DPAYLOAD=..\dist\ExamClient -DOUTFILE=ExamClient-Setup.exe exam-client.nsi
; PAYLOAD is the PyInstaller folder (build.spec): ExamClient.exe, ExamClient-console.exe,
; _internal\. installer/README.md documents every option; docs/deploy.md is the admin guide.
;
; Command line (all optional; /S = silent, /D= must come last):
;   /CONFIG=path\center.ini   center configuration, copied to C:\ProgramData\ExamClient\user.ini
;   /SERVER=https://...       [server] url        } written to <install dir>\user.ini, which
;   /CENTER=id                [server] center_id  } wins over center.ini key by key
;   /CAFILE=path\ca.pem       [server] ca_file    } (the file is copied into the install dir)
;   /DATADIR=D:\ExamClientData [data] directory   }
;   /RENDERLEVEL=auto|0|1|2   [OpenGL] Level      }
;   /S  silent   /D=C:\Program Files\ExamClient  install folder
; Exit codes: 0 installed, 2 cancelled, 3 Windows older than 10, 4 not 64-bit Windows,
;   5 /CONFIG or /CAFILE file not found, 6 invalid /RENDERLEVEL, 7 not an administrator,
;   8 Universal C Runtime missing or older than 10.0.14393 (installer/ucrt.nsh).
; Uninstaller: keeps the answer data folder; /PURGE (or "Yes" in the dialog) deletes it.

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

!define EXIT_OLD_WINDOWS 3
!define EXIT_NOT_64BIT 4
!define EXIT_FILE_MISSING 5
!define EXIT_BAD_OPTION 6
!define EXIT_NOT_ADMIN 7

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
  Call WriteUTF8Line
!macroend

Function WriteUTF8Line
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

!macro FailWith CODE TEXT
  MessageBox MB_OK|MB_ICONSTOP "${TEXT}" /SD IDOK
  SetErrorLevel ${CODE}
  Quit
!macroend
!include "ucrt.nsh"

; GetDrives callback: the first fixed drive that is not the system drive.
Function FirstDataDrive
  StrCpy $R9 $WINDIR 2
  StrCpy $R8 $9 2
  ${If} $R8 != $R9
  ${AndIf} $DataDir == ""
    StrCpy $DataDir "$R8\${APP}Data"
    Push "StopGetDrives"
    Return
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
  ${GetOptions} $R0 "/CONFIG=" $ConfigFile
  ${GetOptions} $R0 "/SERVER=" $ServerUrl
  ${GetOptions} $R0 "/CENTER=" $CenterId
  ${GetOptions} $R0 "/CAFILE=" $CaFile
  ${GetOptions} $R0 "/DATADIR=" $DataDir
  ${GetOptions} $R0 "/RENDERLEVEL=" $RenderLevel
  ClearErrors

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

  ${If} $DataDir == ""
    ReadRegStr $DataDir HKLM "${APP_KEY}" "DataDir"  ; an update keeps the folder in use
  ${EndIf}
  ${If} $DataDir == ""
    ${GetDrives} "HDD" "FirstDataDrive"
  ${EndIf}
  ${If} $DataDir == ""
    StrCpy $DataDir "$APPDATA\${APP}\data"  ; only a system drive: C:\ProgramData\ExamClient
  ${EndIf}
FunctionEnd

Function WriteOverrides
  ; <install dir>\user.ini: what this installation chose. It wins over the center
  ; configuration in C:\ProgramData\ExamClient\user.ini key by key (client/config).
  FileOpen $R0 "$INSTDIR\user.ini" w
  !insertmacro WriteUTF8Line $R0 "; 考试客户端：安装程序写入的设置，优先于 C:\ProgramData\ExamClient\user.ini（考点配置）"
  !insertmacro WriteUTF8Line $R0 "; Exam Client: written by the installer; wins over the center configuration"
  !insertmacro WriteUTF8Line $R0 "[server]"
  ${If} $ServerUrl != ""
    !insertmacro WriteUTF8Line $R0 "url = $ServerUrl"
  ${EndIf}
  ${If} $CenterId != ""
    !insertmacro WriteUTF8Line $R0 "center_id = $CenterId"
  ${EndIf}
  ${If} $CaFile != ""
    !insertmacro WriteUTF8Line $R0 "ca_file = $INSTDIR\center-ca.pem"
  ${EndIf}
  !insertmacro WriteUTF8Line $R0 "[data]"
  !insertmacro WriteUTF8Line $R0 "directory = $DataDir"
  !insertmacro WriteUTF8Line $R0 "[OpenGL]"
  ${If} $RenderLevel != ""
    !insertmacro WriteUTF8Line $R0 "Level = $RenderLevel"
  ${EndIf}
  FileClose $R0
FunctionEnd

Section "Install"
  SetOutPath "$INSTDIR"
  ; An update replaces the program; user.ini and the data folder are rewritten/kept below.
  RMDir /r "$INSTDIR\_internal"
  File /r "${PAYLOAD}\*"

  ${If} $ConfigFile != ""
    CreateDirectory "$APPDATA\${APP}"
    CopyFiles /SILENT "$ConfigFile" "$APPDATA\${APP}\user.ini"
    WriteRegDWORD HKLM "${APP_KEY}" "CenterConfigInstalled" 1
    DetailPrint "center configuration: $ConfigFile -> $APPDATA\${APP}\user.ini"
  ${EndIf}
  ${If} $CaFile != ""
    CopyFiles /SILENT "$CaFile" "$INSTDIR\center-ca.pem"
  ${EndIf}
  Call WriteOverrides

  CreateDirectory "$DataDir"
  ; Candidates log on as standard users: they must be able to write their answers here.
  nsExec::ExecToLog '"$SYSDIR\icacls.exe" "$DataDir" /grant ${USERS_SID}:(OI)(CI)M'
  Pop $0
  ${If} $0 != 0
    DetailPrint "$(LOG_ACL_FAILED)$0)"
  ${EndIf}
  StrCpy $R9 $WINDIR 2
  StrCpy $R8 $DataDir 2
  ${If} $R8 == $R9
    DetailPrint "$(LOG_SYSTEM_DRIVE)$DataDir"
  ${EndIf}

  CreateDirectory "$SMPROGRAMS\$(APP_NAME)"
  CreateShortcut "$SMPROGRAMS\$(APP_NAME)\$(APP_NAME).lnk" "$INSTDIR\ExamClient.exe"
  CreateShortcut "$SMPROGRAMS\$(APP_NAME)\$(CHECK_NAME).lnk" "$INSTDIR\ExamClient.exe" "check --gui"
  CreateShortcut "$DESKTOP\$(APP_NAME).lnk" "$INSTDIR\ExamClient.exe"

  WriteRegStr HKLM "${APP_KEY}" "InstallDir" "$INSTDIR"
  WriteRegStr HKLM "${APP_KEY}" "DataDir" "$DataDir"
  WriteRegStr HKLM "${APP_KEY}" "Version" "${VERSION}"
  WriteRegStr HKLM "${APP_KEY}" "StartMenuFolder" "$SMPROGRAMS\$(APP_NAME)"
  WriteRegStr HKLM "${APP_KEY}" "DesktopShortcut" "$DESKTOP\$(APP_NAME).lnk"

  WriteUninstaller "$INSTDIR\uninstall.exe"
  WriteRegStr HKLM "${UNINST_KEY}" "DisplayName" "$(APP_NAME)"
  WriteRegStr HKLM "${UNINST_KEY}" "DisplayVersion" "${VERSION}"
  WriteRegStr HKLM "${UNINST_KEY}" "Publisher" "Exam Client"
  WriteRegStr HKLM "${UNINST_KEY}" "DisplayIcon" "$INSTDIR\ExamClient.exe"
  WriteRegStr HKLM "${UNINST_KEY}" "InstallLocation" "$INSTDIR"
  WriteRegStr HKLM "${UNINST_KEY}" "UninstallString" '"$INSTDIR\uninstall.exe"'
  WriteRegStr HKLM "${UNINST_KEY}" "QuietUninstallString" '"$INSTDIR\uninstall.exe" /S'
  WriteRegDWORD HKLM "${UNINST_KEY}" "NoModify" 1
  WriteRegDWORD HKLM "${UNINST_KEY}" "NoRepair" 1
  ${GetSize} "$INSTDIR" "/S=0K" $0 $1 $2
  WriteRegDWORD HKLM "${UNINST_KEY}" "EstimatedSize" $0
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

Section "Uninstall"
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
    RMDir "$APPDATA\${APP}"  ; only if empty: per-PC state files stay
  ${EndIf}

  ; Never a recursive delete of the install folder: an admin may have put the data
  ; folder inside it.
  RMDir /r "$INSTDIR\_internal"
  Delete "$INSTDIR\ExamClient.exe"
  Delete "$INSTDIR\ExamClient-console.exe"
  Delete "$INSTDIR\user.ini"
  Delete "$INSTDIR\center-ca.pem"
  Delete "$INSTDIR\uninstall.exe"

  ${If} $DataDir != ""
    ${If} $Purge == 0
      MessageBox MB_YESNO|MB_ICONQUESTION|MB_DEFBUTTON2 "$(MSG_DELETE_DATA)" /SD IDNO IDNO keep_data
      StrCpy $Purge 1
      keep_data:
    ${EndIf}
    ${If} $Purge == 1
      RMDir /r "$DataDir"
    ${Else}
      DetailPrint "$DataDir"
    ${EndIf}
  ${EndIf}
  RMDir "$INSTDIR"

  DeleteRegKey HKLM "${UNINST_KEY}"
  DeleteRegKey HKLM "${APP_KEY}"
SectionEnd
