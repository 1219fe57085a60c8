features {
  'autoupdater',
  'ebtables-filter-multicast',
  'ebtables-filter-ra-dhcp',
  'ebtables-limit-arp',
  'mesh-batman-adv-15',
  'mesh-vpn-wireguard',
  'respondd',
  'status-page',
  'web-advanced',
  'web-wizard',
}

-- WireGuard and its userspace tools do not fit the smallest devices.
if device_class('tiny') then
  disable()
end
