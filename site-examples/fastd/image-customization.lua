features {
  'autoupdater',
  'ebtables-filter-multicast',
  'ebtables-filter-ra-dhcp',
  'ebtables-limit-arp',
  'ebtables-source-filter',
  'mesh-batman-adv-15',
  'mesh-vpn-fastd-l2tp',
  'respondd',
  'status-page',
  'web-advanced',
  'web-mesh-vpn-fastd',
  'web-wizard',
}

if not device_class('tiny') then
  features { 'wireless-encryption-wpa3' }
end

packages { 'iwinfo' }
