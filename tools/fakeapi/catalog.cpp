#include "catalog.hpp"

#include <algorithm>
#include <array>
#include <cstdio>
#include <stdexcept>

#include "rng.hpp"

namespace mdesync::fakeapi {
namespace {

constexpr OsMask D = os_bit(Os::windows10) | os_bit(Os::windows11);    // desktops
constexpr OsMask S = os_bit(Os::server2019) | os_bit(Os::server2022);  // servers
constexpr OsMask W = D | S;
constexpr OsMask L = os_bit(Os::linux);
constexpr OsMask M = os_bit(Os::macos);

enum Flags : unsigned { none = 0, x86 = 1, os_record = 2, eos = 4 };

struct RawCpe {
  std::string_view vendor, name, versions;
  OsMask os;
  std::string_view win;   // path under Program Files
  std::string_view unix;  // binary name or absolute path
  std::string_view mac;   // bundle name or absolute path
  unsigned flags;
};

// Vendor and product spelled as MDE spells CPE names: lowercase, underscores.
constexpr RawCpe raw_cpe[] = {
    {"7-zip", "7-zip", "19.00|22.01|23.01", W, "7-Zip\\7z.exe", "", "", none},
    {"adobe", "acrobat_dc", "23.008.20470|24.001.20604", D, "Adobe\\Acrobat DC\\Acrobat\\Acrobat.exe", "", "Adobe Acrobat", none},
    {"adobe", "acrobat_reader_dc", "23.006.20320|23.008.20470|23.008.20533|24.001.20604", D | M, "Adobe\\Acrobat Reader DC\\Reader\\AcroRd32.exe", "", "Adobe Acrobat Reader", x86},
    {"adobe", "creative_cloud", "5.11.0.522|6.1.0.587", D | M, "Adobe\\Adobe Creative Cloud\\ACC\\Creative Cloud.exe", "", "Adobe Creative Cloud", x86},
    {"adobe", "flash_player", "32.0.0.445|32.0.0.465", D, "Macromed\\Flash\\FlashUtil_ActiveX.exe", "", "", x86 | eos},
    {"adobe", "photoshop", "24.7.1|25.4", D | M, "Adobe\\Adobe Photoshop 2024\\Photoshop.exe", "", "Adobe Photoshop 2024", none},
    {"anydesk", "anydesk", "7.1.13|8.0.6|8.0.8", D, "AnyDesk\\AnyDesk.exe", "", "", x86},
    {"apache", "http_server", "2.4.57|2.4.58|2.4.59", S | L, "Apache24\\bin\\httpd.exe", "/usr/sbin/apache2", "", none},
    {"apache", "log4j", "2.17.1|2.20.0|2.22.1", S | L, "Apache\\log4j\\log4j-core.jar", "/opt/app/lib/log4j-core.jar", "", none},
    {"apache", "tomcat", "9.0.83|9.0.85|10.1.18", S | L, "Apache Software Foundation\\Tomcat 9.0\\bin\\tomcat9.exe", "/opt/tomcat/bin/catalina.sh", "", none},
    {"apple", "icloud", "14.2.0.114|15.1.143.0", D, "Common Files\\Apple\\Internet Services\\iCloud.exe", "", "", none},
    {"apple", "itunes", "12.12.10.1|12.13.1.3", D, "iTunes\\iTunes.exe", "", "", none},
    {"apple", "macos", "13.6.4|14.3.1|14.4", M, "", "", "", os_record},
    {"apple", "safari", "17.2.1|17.3.1|17.4", M, "", "", "Safari", none},
    {"apple", "xcode", "15.1|15.2|15.3", M, "", "", "Xcode", none},
    {"audacityteam", "audacity", "3.4.2|3.5.1", D | M, "Audacity\\Audacity.exe", "", "Audacity", none},
    {"autodesk", "autocad", "24.2.70.0|24.3.61.0", D, "Autodesk\\AutoCAD 2024\\acad.exe", "", "", none},
    {"brave", "brave", "1.61.120|1.62.153|1.63.165", D | M, "BraveSoftware\\Brave-Browser\\Application\\brave.exe", "", "Brave Browser", none},
    {"canonical", "ubuntu_linux", "20.04|22.04", L, "", "", "", os_record},
    {"cisco", "anyconnect_secure_mobility_client", "4.10.07073|4.10.08025", D | M, "Cisco\\Cisco AnyConnect Secure Mobility Client\\vpnui.exe", "", "Cisco/Cisco AnyConnect Secure Mobility Client", x86},
    {"cisco", "webex_meetings", "43.10.0.27605|43.12.0.28111", D, "Webex\\Webex\\Applications\\ptoneclk.exe", "", "", x86},
    {"citrix", "workspace", "23.9.1.104|23.11.0.197|24.2.0.187", D, "Citrix\\ICA Client\\SelfServicePlugin\\SelfService.exe", "", "", x86},
    {"dbeaver", "dbeaver", "23.3.3|24.0.0", D | L | M, "DBeaver\\dbeaver.exe", "/usr/share/dbeaver-ce/dbeaver", "DBeaver", none},
    {"dell", "command_update", "5.1.0|5.2.0", D, "Dell\\CommandUpdate\\dcu-cli.exe", "", "", none},
    {"docker", "docker", "24.0.7|25.0.3", L, "", "/usr/bin/dockerd", "", none},
    {"docker", "docker_desktop", "4.26.1|4.27.2|4.28.0", D | M, "Docker\\Docker\\Docker Desktop.exe", "", "Docker", none},
    {"dropbox", "dropbox", "190.4.6383|192.4.4605", D | M, "Dropbox\\Client\\Dropbox.exe", "", "Dropbox", x86},
    {"eclipse", "temurin", "11.0.21.9|17.0.10.7|21.0.2.13", W | L | M, "Eclipse Adoptium\\jdk-17.0.10.7-hotspot\\bin\\java.exe", "/usr/lib/jvm/temurin-17-jdk-amd64/bin/java", "/Library/Java/JavaVirtualMachines/temurin-17.jdk", none},
    {"elastic", "elasticsearch", "8.11.3|8.12.1", L, "", "/usr/share/elasticsearch/bin/elasticsearch", "", none},
    {"filezilla-project", "filezilla_client", "3.66.1|3.66.4", D | L, "FileZilla FTP Client\\filezilla.exe", "filezilla", "", none},
    {"foxit", "pdf_reader", "12.1.3.15356|2023.3.0.23028", D, "Foxit Software\\Foxit PDF Reader\\FoxitPDFReader.exe", "", "", x86},
    {"fortinet", "forticlient", "7.0.10.0538|7.2.3.0929", D | M, "Fortinet\\FortiClient\\FortiClient.exe", "", "FortiClient", none},
    {"gimp", "gimp", "2.10.34|2.10.36", D | L | M, "GIMP 2\\bin\\gimp-2.10.exe", "gimp", "GIMP", none},
    {"git-scm", "git", "2.42.0.2|2.43.0|2.44.0", W | L | M, "Git\\cmd\\git.exe", "git", "/usr/local/bin/git", none},
    {"google", "chrome", "119.0.6045.200|120.0.6099.130|121.0.6167.185|122.0.6261.129", W | L | M, "Google\\Chrome\\Application\\chrome.exe", "/opt/google/chrome/chrome", "Google Chrome", x86},
    {"grafana", "grafana", "10.2.3|10.3.3", L, "", "/usr/sbin/grafana-server", "", none},
    {"handbrake", "handbrake", "1.7.2|1.7.3", D | M, "HandBrake\\HandBrake.exe", "", "HandBrake", none},
    {"hashicorp", "terraform", "1.6.6|1.7.4", W | L | M, "HashiCorp\\Terraform\\terraform.exe", "terraform", "/usr/local/bin/terraform", none},
    {"hashicorp", "vagrant", "2.4.0|2.4.1", D | L | M, "HashiCorp\\Vagrant\\bin\\vagrant.exe", "vagrant", "/usr/local/bin/vagrant", none},
    {"haxx", "curl", "8.4.0|8.5.0|8.6.0", W | L | M, "curl\\bin\\curl.exe", "curl", "/usr/bin/curl", none},
    {"hp", "support_assistant", "9.25.12.0|9.27.43.0", D, "Hewlett-Packard\\HP Support Framework\\HPSF.exe", "", "", x86},
    {"intel", "graphics_driver", "31.0.101.4887|31.0.101.5186", D, "Intel\\Intel(R) Graphics\\igfxEM.exe", "", "", none},
    {"inkscape", "inkscape", "1.3|1.3.2", D | L, "Inkscape\\bin\\inkscape.exe", "inkscape", "", none},
    {"irfanview", "irfanview", "4.62|4.66", D, "IrfanView\\i_view64.exe", "", "", none},
    {"jetbrains", "intellij_idea", "2023.3.3|2023.3.4", D | L | M, "JetBrains\\IntelliJ IDEA 2023.3.4\\bin\\idea64.exe", "/opt/idea/bin/idea.sh", "IntelliJ IDEA", none},
    {"jetbrains", "pycharm", "2023.3.3|2023.3.4", D | L | M, "JetBrains\\PyCharm 2023.3.4\\bin\\pycharm64.exe", "/opt/pycharm/bin/pycharm.sh", "PyCharm", none},
    {"keepass", "keepass", "2.54|2.55|2.56", W, "KeePass Password Safe 2\\KeePass.exe", "", "", x86},
    {"lenovo", "system_update", "5.08.01.0009|5.08.02.25", D, "Lenovo\\System Update\\tvsu.exe", "", "", x86},
    {"libreoffice", "libreoffice", "7.5.9.2|7.6.4.1|24.2.1.2", D | L | M, "LibreOffice\\program\\soffice.exe", "/usr/lib/libreoffice/program/soffice", "LibreOffice", none},
    {"linux", "linux_kernel", "5.15.0.91|6.5.0.21|6.5.0.25", L, "", "/boot/vmlinuz", "", none},
    {"logitech", "options", "10.10.58|10.20.11", D | M, "Logitech\\LogiOptions\\LogiOptions.exe", "", "Logi Options+", none},
    {"microsoft", ".net", "6.0.26|7.0.15|8.0.2", W | L | M, "dotnet\\dotnet.exe", "/usr/share/dotnet/dotnet", "/usr/local/share/dotnet/dotnet", none},
    {"microsoft", ".net_framework", "4.8.04084|4.8.09032", W, "Reference Assemblies\\Microsoft\\Framework\\.NETFramework\\v4.8\\mscorlib.dll", "", "", x86},
    {"microsoft", "365_apps", "16.0.17231.20236|16.0.17328.20162", D, "Microsoft Office\\root\\Office16\\WINWORD.EXE", "", "", none},
    {"microsoft", "azure_cli", "2.56.0|2.57.0", W | L | M, "Microsoft SDKs\\Azure\\CLI2\\wbin\\az.cmd", "az", "/usr/local/bin/az", x86},
    {"microsoft", "edge_chromium", "120.0.2210.91|121.0.2277.128|122.0.2365.92|123.0.2420.81", W | M, "Microsoft\\Edge\\Application\\msedge.exe", "", "Microsoft Edge", x86},
    {"microsoft", "exchange_server", "15.2.1258.28|15.2.1544.4", S, "Microsoft\\Exchange Server\\V15\\Bin\\Microsoft.Exchange.Store.Service.exe", "", "", none},
    {"microsoft", "internet_explorer", "11.0.17763.1|11.0.19041.3636", W, "Internet Explorer\\iexplore.exe", "", "", eos},
    {"microsoft", "internet_information_services", "10.0.17763.1|10.0.20348.1", S, "", "", "", none},
    {"microsoft", "office", "16.0.14332.20624|16.0.16130.20868|16.0.17126.20132", D | M, "Microsoft Office\\root\\Office16\\EXCEL.EXE", "", "Microsoft Excel", none},
    {"microsoft", "onedrive", "23.246.1127.0002|24.010.0114.0003", D | M, "Microsoft OneDrive\\OneDrive.exe", "", "OneDrive", none},
    {"microsoft", "power_bi_desktop", "2.124.1805.0|2.126.927.0", D, "Microsoft Power BI Desktop\\bin\\PBIDesktop.exe", "", "", none},
    {"microsoft", "powershell", "7.3.9|7.4.1", W | L | M, "PowerShell\\7\\pwsh.exe", "/opt/microsoft/powershell/7/pwsh", "/usr/local/bin/pwsh", none},
    {"microsoft", "remote_desktop_client", "1.2.4763.0|1.2.5105.0", D, "Remote Desktop\\msrdcw.exe", "", "", none},
    {"microsoft", "silverlight", "5.1.50918.0", D, "Microsoft Silverlight\\sllauncher.exe", "", "", x86 | eos},
    {"microsoft", "sql_server", "15.0.4345.5|16.0.4105.2", S, "Microsoft SQL Server\\MSSQL16.MSSQLSERVER\\MSSQL\\Binn\\sqlservr.exe", "/opt/mssql/bin/sqlservr", "", none},
    {"microsoft", "sql_server_management_studio", "19.1.56.0|19.3.4.0|20.0.70.0", W, "Microsoft SQL Server Management Studio 19\\Common7\\IDE\\Ssms.exe", "", "", x86},
    {"microsoft", "sysinternals_sysmon", "15.0|15.11|15.14", W, "Sysinternals\\Sysmon64.exe", "", "", none},
    {"microsoft", "teams", "1.6.00.33567|23335.232.2637.4844|24004.1403.2634.2418", D | M, "WindowsApps\\MSTeams_24004.1403.2634.2418_x64__8wekyb3d8bbwe\\ms-teams.exe", "", "Microsoft Teams", none},
    {"microsoft", "visual_c++_2015-2022_redistributable", "14.36.32532.0|14.38.33130.0", W, "Microsoft Visual Studio\\Shared\\VC\\vcruntime140.dll", "", "", x86},
    {"microsoft", "visual_studio_2022", "17.8.5|17.9.2", D, "Microsoft Visual Studio\\2022\\Community\\Common7\\IDE\\devenv.exe", "", "", none},
    {"microsoft", "visual_studio_code", "1.85.2|1.86.2|1.87.0", D | L | M, "Microsoft VS Code\\Code.exe", "/usr/share/code/code", "Visual Studio Code", none},
    {"microsoft", "windows_10", "10.0.19044.3803|10.0.19045.3930|10.0.19045.4046", os_bit(Os::windows10), "", "", "", os_record},
    {"microsoft", "windows_11", "10.0.22621.3007|10.0.22631.3155|10.0.22631.3296", os_bit(Os::windows11), "", "", "", os_record},
    {"microsoft", "windows_server_2019", "10.0.17763.1637|10.0.17763.5329|10.0.17763.5458", os_bit(Os::server2019), "", "", "", os_record},
    {"microsoft", "windows_server_2022", "10.0.20348.2227|10.0.20348.2322", os_bit(Os::server2022), "", "", "", os_record},
    {"microsoft", "windows_terminal", "1.18.3181.0|1.19.10573.0", D, "WindowsApps\\Microsoft.WindowsTerminal_1.19.10573.0_x64__8wekyb3d8bbwe\\wt.exe", "", "", none},
    {"mongodb", "mongodb", "6.0.12|7.0.5", S | L, "MongoDB\\Server\\7.0\\bin\\mongod.exe", "/usr/bin/mongod", "", none},
    {"mozilla", "firefox", "115.6.0esr|121.0.1|122.0|123.0.1", D | L | M, "Mozilla Firefox\\firefox.exe", "firefox", "Firefox", none},
    {"mozilla", "thunderbird", "115.6.1|115.8.0", D | L, "Mozilla Thunderbird\\thunderbird.exe", "thunderbird", "", none},
    {"mremoteng", "mremoteng", "1.76.20", D, "mRemoteNG\\mRemoteNG.exe", "", "", x86},
    {"nginx", "nginx", "1.24.0|1.25.3|1.25.4", L, "", "/usr/sbin/nginx", "", none},
    {"nmap", "nmap", "7.93|7.94", W | L, "Nmap\\nmap.exe", "nmap", "", x86},
    {"nodejs", "node.js", "18.19.0|20.11.0|20.11.1", W | L | M, "nodejs\\node.exe", "node", "/usr/local/bin/node", none},
    {"notepad++", "notepad++", "8.5.8|8.6|8.6.4", W, "Notepad++\\notepad++.exe", "", "", none},
    {"nvidia", "gpu_display_driver", "537.70|546.33|551.61", D, "NVIDIA Corporation\\Control Panel Client\\nvcplui.exe", "", "", none},
    {"obsproject", "obs_studio", "30.0.2|30.1", D | M, "obs-studio\\bin\\64bit\\obs64.exe", "", "OBS", none},
    {"openbsd", "openssh", "8.9p1|9.3p1|9.6p1", W | L | M, "OpenSSH\\sshd.exe", "/usr/sbin/sshd", "/usr/sbin/sshd", none},
    {"openssl", "openssl", "1.1.1w|3.0.12|3.0.13", W | L | M, "OpenSSL-Win64\\bin\\openssl.exe", "openssl", "/usr/bin/openssl", none},
    {"openvpn", "openvpn", "2.6.8|2.6.9", W | L, "OpenVPN\\bin\\openvpn.exe", "/usr/sbin/openvpn", "", none},
    {"opera", "opera_browser", "106.0.4998.70|107.0.5045.36", D, "Opera\\launcher.exe", "", "", none},
    {"oracle", "jdk", "17.0.9|17.0.10|21.0.2", W | L, "Java\\jdk-17\\bin\\java.exe", "/usr/lib/jvm/jdk-17-oracle-x64/bin/java", "", none},
    {"oracle", "jre", "1.8.0_381|1.8.0_391|1.8.0_401", W | L, "Java\\jre-1.8\\bin\\java.exe", "/usr/lib/jvm/jre-1.8.0/bin/java", "", x86},
    {"oracle", "mysql", "8.0.35|8.0.36", S | L, "MySQL\\MySQL Server 8.0\\bin\\mysqld.exe", "/usr/sbin/mysqld", "", none},
    {"oracle", "virtualbox", "7.0.12|7.0.14", D | L | M, "Oracle\\VirtualBox\\VirtualBox.exe", "virtualbox", "VirtualBox", none},
    {"paloaltonetworks", "globalprotect", "6.1.1|6.2.0", D | M, "Palo Alto Networks\\GlobalProtect\\PanGPA.exe", "", "GlobalProtect", none},
    {"postgresql", "postgresql", "14.10|15.5|16.2", S | L, "PostgreSQL\\16\\bin\\postgres.exe", "/usr/lib/postgresql/16/bin/postgres", "", none},
    {"postman", "postman", "10.21.0|10.23.5", D | M, "Postman\\Postman.exe", "", "Postman", none},
    {"putty", "putty", "0.78|0.79|0.80", W, "PuTTY\\putty.exe", "", "", none},
    {"python", "python", "3.10.11|3.11.7|3.12.2", W | L | M, "Python312\\python.exe", "python3", "/Library/Frameworks/Python.framework/Versions/3.12/bin/python3", none},
    {"rarlab", "winrar", "6.22|6.24|7.00", D, "WinRAR\\WinRAR.exe", "", "", none},
    {"realtek", "high_definition_audio_driver", "6.0.9239.1|6.0.9549.1", D, "Realtek\\Audio\\HDA\\RtkNGUI64.exe", "", "", none},
    {"redhat", "enterprise_linux", "8.9|9.3", L, "", "", "", os_record},
    {"redis", "redis", "7.0.15|7.2.4", L, "", "/usr/bin/redis-server", "", none},
    {"sap", "gui", "7.70.0.12|8.00.0.1", D, "SAP\\FrontEnd\\SAPgui\\saplogon.exe", "", "", x86},
    {"splunk", "universal_forwarder", "9.1.2|9.2.0", W | L, "SplunkUniversalForwarder\\bin\\splunkd.exe", "/opt/splunkforwarder/bin/splunkd", "", none},
    {"spotify", "spotify", "1.2.26.1187|1.2.31.1205", D | M, "WindowsApps\\SpotifyAB.SpotifyMusic_1.2.31.1205.0_x86__zpdnekdrzrea0\\Spotify.exe", "", "Spotify", none},
    {"sumatrapdfreader", "sumatrapdf", "3.5.2", D, "SumatraPDF\\SumatraPDF.exe", "", "", none},
    {"tableau", "tableau_desktop", "2023.3.2|2024.1.0", D | M, "Tableau\\Tableau 2024.1\\bin\\tableau.exe", "", "Tableau Desktop 2024.1", none},
    {"teamviewer", "teamviewer", "15.48.5|15.49.2|15.50.5", D | M, "TeamViewer\\TeamViewer.exe", "", "TeamViewer", none},
    {"tightvnc", "tightvnc", "2.8.81|2.8.85", W, "TightVNC\\tvnserver.exe", "", "", none},
    {"tortoisesvn", "tortoisesvn", "1.14.5.29465|1.14.6.29673", D, "TortoiseSVN\\bin\\TortoiseProc.exe", "", "", none},
    {"veeam", "backup_&_replication", "12.0.0.1420|12.1.0.2131", S, "Veeam\\Backup and Replication\\Backup\\Veeam.Backup.Service.exe", "", "", none},
    {"videolan", "vlc_media_player", "3.0.18|3.0.20", D | L | M, "VideoLAN\\VLC\\vlc.exe", "vlc", "VLC", none},
    {"vmware", "horizon_client", "8.10.0.41512|8.11.0.20124", D, "VMware\\VMware Horizon View Client\\vmware-view.exe", "", "", x86},
    {"vmware", "tools", "12.3.0.22234872|12.3.5.22544099", W | L, "VMware\\VMware Tools\\vmtoolsd.exe", "/usr/bin/vmtoolsd", "", none},
    {"vmware", "workstation_pro", "17.5.0|17.5.1", D, "VMware\\VMware Workstation\\vmware.exe", "", "", x86},
    {"winscp", "winscp", "6.1.2|6.3.1|6.3.2", W, "WinSCP\\WinSCP.exe", "", "", x86},
    {"wireguard", "wireguard", "0.5.3", W | L | M, "WireGuard\\wireguard.exe", "wg", "WireGuard", none},
    {"wireshark", "wireshark", "4.0.11|4.2.2|4.2.3", W | L | M, "Wireshark\\Wireshark.exe", "wireshark", "Wireshark", none},
    {"zoom", "zoom", "5.16.10.26186|5.17.5.31030|5.17.11.34827", D | L | M, "Zoom\\bin\\Zoom.exe", "/opt/zoom/zoom", "zoom.us", none},
    {"zscaler", "client_connector", "4.2.0.209|4.3.0.181", D | M, "Zscaler\\ZSATray\\ZSATray.exe", "", "Zscaler", none},
};

struct RawNonCpe {
  std::string_view vendor, name, versions;
  OsMask os;
};

// Non-CPE names are what the installer reported, normalized only loosely: trademark
// signs, Unicode, quotes and the odd control character survive, as in the real feed.
constexpr RawNonCpe raw_noncpe[] = {
    {"", "unknown_package", "0.0.0.0|1.0", W | L},
    {"adobe", "adobe_refresh_manager", "1.8.0", D},
    {"amd", "amd_chipset_software", "5.08.02.027|6.01.25.342", D},
    {"asus", "armoury_crate_service", "5.6.3|5.7.0", D},
    {"canon", "canon_ij_network_tool", "4.7.5", D | M},
    {"citrix", "citrix_web_helper", "23.9.1.5", D},
    {"contoso", "contoso_line_of_business_app", "3.2.1|3.3.0|3.3.1", W},
    {"contoso", "日本語ツール", "1.0|1.1", D},
    {"dell", "dell_supportassist_os_recovery_plugin", "5.5.9.16143|5.5.10.16301", D},
    {"epson", "epson_scan_2", "6.4.95.0|6.5.21.0", D | M},
    {"fabrikam", "fabrikam_\"legacy\"_agent", "2.0|2.1", W},
    {"fabrikam", "inhouse\\helper", "0.9.1", W},
    {"fabrikam", "payroll\tclient", "5.1|5.2", D},
    {"fabrikam", "build_agent", "3.225.0|3.232.1", L | S},
    {"google", "google_update_helper", "1.3.36.352|1.3.36.372", D | M},
    {"hp", "hp_documentation", "1.0.0.1", D},
    {"hp", "hp_wolf_security", "4.5.2.3150|4.6.1.4010", D},
    {"intel", "intel®_software_installer", "22.20.2.2|23.10.0.1", D},
    {"intel", "intel®_management_engine_components", "2229.4.2.0|2306.4.3.0", D},
    {"ivanti", "ivanti_secure_access_client", "22.3.3.1|22.6.1.1", D},
    {"kingsoft", "wps_office_(个人版)", "11.2.0.11537|12.2.0.13431", D},
    {"lenovo", "lenovo_now", "1.0.2.54", D},
    {"logitech", "logi_bolt", "1.3.4|1.3.5", D | M},
    {"microsoft", "microsoft_gameinput", "10.1.22621.3036", D},
    {"microsoft", "microsoft_update_health_tools", "3.74.0.0|5.72.0.0", D},
    {"microsoft", "office_16_click-to-run_extensibility_component", "16.0.17231.20194", D},
    {"microsoft", "teams_meeting_add-in_for_microsoft_office", "1.23.33413|1.24.2203", D},
    {"microsoft", "vs_communitymsi", "11.11.31111.1|17.9.34607.119", D},
    {"microsoft", "vs_minshellmsi", "17.8.34316.72", D},
    {"microsoft", "windows_pc_health_check", "3.7.2204.15001", D},
    {"microsoft", "windows_sdk_addon", "10.1.22621.2428", W},
    {"microsoft", "omi", "1.7.1.0|1.8.1.0", L},
    {"müller_gmbh", "zeiterfassung_client", "4.12|4.13", D},
    {"nvidia", "nvidia_frameview_sdk", "1.3.8513", D},
    {"nvidia", "nvidia_physx_system_software", "9.23.1019", D},
    {"oracle", "java_auto_updater", "2.8.391.13|2.8.401.10", D},
    {"realtek", "realtek_card_reader", "10.0.22000.21355", D},
    {"ricoh", "ricoh_driver_package", "2.3.0.0", W},
    {"sap", "sap_business_client", "8.0.100", D},
    {"synaptics", "synaptics_pointing_device_driver", "19.5.35.38", D},
    {"zebra", "zebra_setup_utilities", "1.1.9.1325", D},
    {"homebrew", "homebrew", "4.2.10|4.2.12", M},
    {"jamf", "jamf_protect", "5.2.0.5|5.3.0.1", M},
    {"debian", "ca-certificates", "20230311|20240203", L},
    {"debian", "tzdata", "2024a-0ubuntu0.22.04", L},
};

std::vector<std::string_view> split_versions(std::string_view s) {
  std::vector<std::string_view> out;
  while (true) {
    const auto bar = s.find('|');
    out.push_back(s.substr(0, bar));
    if (bar == std::string_view::npos) break;
    s.remove_prefix(bar + 1);
  }
  return out;
}

std::string uninstall_key(std::string_view vendor, std::string_view name, bool wow) {
  std::string key = wow ? "HKEY_LOCAL_MACHINE\\SOFTWARE\\WOW6432Node\\Microsoft\\Windows\\CurrentVersion\\Uninstall\\"
                        : "HKEY_LOCAL_MACHINE\\SOFTWARE\\Microsoft\\Windows\\CurrentVersion\\Uninstall\\";
  const std::uint64_t h = fnv1a(name, fnv1a(vendor));
  if (h % 3 == 0) {
    key += name;  // some installers register under their product name, not a GUID
    return key;
  }
  const std::uint64_t lo = mix(h, 1), hi = mix(h, 2);
  char guid[40];
  std::snprintf(guid, sizeof guid, "{%08X-%04X-%04X-%04X-%012llX}", static_cast<unsigned>(hi >> 32),
                static_cast<unsigned>((hi >> 16) & 0xFFFF), static_cast<unsigned>(hi & 0xFFFF),
                static_cast<unsigned>(lo >> 48), static_cast<unsigned long long>(lo & 0xFFFFFFFFFFFFull));
  key += guid;
  return key;
}

CpeProduct make_cpe(const RawCpe& r) {
  CpeProduct p;
  p.vendor = r.vendor;
  p.name = r.name;
  p.versions = split_versions(r.versions);
  p.os = r.os;
  p.os_itself = (r.flags & os_record) != 0;
  p.eos_software = (r.flags & eos) != 0;
  if (!r.win.empty()) {
    p.win_path = "C:\\Program Files\\" + std::string(r.win);
    if (r.flags & x86) p.win_x86_path = "C:\\Program Files (x86)\\" + std::string(r.win);
  }
  if (r.unix.empty())
    p.unix_path = "/usr/bin/" + std::string(r.name);
  else
    p.unix_path = r.unix.front() == '/' ? std::string(r.unix) : "/usr/bin/" + std::string(r.unix);
  if (r.mac.empty())
    p.mac_path = "/Applications/" + std::string(r.name) + ".app";
  else
    p.mac_path = r.mac.front() == '/' ? std::string(r.mac) : "/Applications/" + std::string(r.mac) + ".app";
  p.registry_path = uninstall_key(r.vendor, r.name, false);
  p.registry_wow_path = uninstall_key(r.vendor, r.name, true);
  return p;
}

template <typename P>
void sort_by_key(std::vector<P>& v) {
  std::sort(v.begin(), v.end(), [](const P& a, const P& b) {
    return a.vendor != b.vendor ? a.vendor < b.vendor : a.name < b.name;
  });
  for (std::size_t i = 1; i < v.size(); ++i)
    if (v[i - 1].vendor == v[i].vendor && v[i - 1].name == v[i].name)
      throw std::logic_error("duplicate catalog product " + std::string(v[i].name));
}

constexpr RbacGroup groups[] = {
    {11, "London"}, {23, "Tokyo"}, {31, "Zürich"}, {42, "東京"}, {57, "New York"}, {68, "Servers – Tier 0"},
    {0, "UnassignedGroup"},
};

}  // namespace

std::string_view os_platform_name(Os os) {
  switch (os) {
    case Os::windows10: return "Windows10";
    case Os::windows11: return "Windows11";
    case Os::server2019: return "WindowsServer2019";
    case Os::server2022: return "WindowsServer2022";
    case Os::linux: return "Linux";
    case Os::macos: return "macOS";
  }
  return "Unknown";
}

bool is_windows(Os os) { return (os_bit(os) & W) != 0; }

std::span<const RbacGroup> rbac_groups() { return groups; }

const std::vector<CpeProduct>& cpe_catalog() {
  static const std::vector<CpeProduct> catalog = [] {
    std::vector<CpeProduct> v;
    for (const auto& r : raw_cpe) v.push_back(make_cpe(r));
    sort_by_key(v);
    return v;
  }();
  return catalog;
}

const std::vector<NonCpeProduct>& noncpe_catalog() {
  static const std::vector<NonCpeProduct> catalog = [] {
    std::vector<NonCpeProduct> v;
    for (const auto& r : raw_noncpe) v.push_back({r.vendor, r.name, split_versions(r.versions), r.os});
    sort_by_key(v);
    return v;
  }();
  return catalog;
}

const std::vector<std::uint16_t>& os_products(Os os) {
  static const auto table = [] {
    std::array<std::vector<std::uint16_t>, os_count> t;
    const auto& c = cpe_catalog();
    for (std::size_t i = 0; i < c.size(); ++i)
      if (c[i].os_itself)
        for (int o = 0; o < os_count; ++o)
          if (c[i].os & os_bit(static_cast<Os>(o))) t[o].push_back(static_cast<std::uint16_t>(i));
    return t;
  }();
  return table[static_cast<int>(os)];
}

}  // namespace mdesync::fakeapi
