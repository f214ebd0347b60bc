// pcap capture backend (libpcap); see pcap_file.hpp
