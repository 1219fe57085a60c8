/* glibc's _dl_find_object (2.35), which the unwinder of Debian's cross gcc
 * (libgcc_eh.a, built for glibc) calls to find a program counter's
 * .eh_frame_hdr, written over musl's dl_iterate_phdr. Only for the emulation
 * runtime that .ci/cross builds: OpenWrt's own libgcc_s is built for musl.
 * The struct is glibc's generic layout (no dlfo_eh_dbase, no dlfo_eh_count).
 * On ARM (EHABI) the unwinder asks __gnu_Unwind_Find_exidx instead, also
 * glibc's: the .ARM.exidx table of the object holding a program counter. */
#define _GNU_SOURCE
#include <link.h>
#include <stdint.h>

struct dl_find_object {
	unsigned long long dlfo_flags;
	void *dlfo_map_start;
	void *dlfo_map_end;
	void *dlfo_link_map;
	void *dlfo_eh_frame;
	unsigned long long reserved[7];
};

struct lookup {
	uintptr_t pc;
	struct dl_find_object *found;
};

static int visit(struct dl_phdr_info *info, size_t size, void *data)
{
	struct lookup *lookup = data;
	uintptr_t start = UINTPTR_MAX, end = 0;
	void *eh_frame_hdr = 0;
	int contains = 0;
	(void)size;
	for (int i = 0; i < info->dlpi_phnum; i++) {
		const ElfW(Phdr) *ph = &info->dlpi_phdr[i];
		uintptr_t at = info->dlpi_addr + ph->p_vaddr;
		if (ph->p_type == PT_LOAD) {
			if (at < start)
				start = at;
			if (at + ph->p_memsz > end)
				end = at + ph->p_memsz;
			if (lookup->pc >= at && lookup->pc < at + ph->p_memsz)
				contains = 1;
		} else if (ph->p_type == PT_GNU_EH_FRAME) {
			eh_frame_hdr = (void *)at;
		}
	}
	if (!contains)
		return 0;
	lookup->found->dlfo_flags = 0;
	lookup->found->dlfo_map_start = (void *)start;
	lookup->found->dlfo_map_end = (void *)end;
	lookup->found->dlfo_link_map = 0;
	lookup->found->dlfo_eh_frame = eh_frame_hdr;
	return 1;
}

__attribute__((visibility("hidden")))
int _dl_find_object(void *pc, struct dl_find_object *found)
{
	struct lookup lookup = { (uintptr_t)pc, found };
	return dl_iterate_phdr(visit, &lookup) ? 0 : -1;
}

#ifdef __ARM_EABI__
struct exidx_lookup {
	uintptr_t pc;
	uintptr_t table;
	int entries;
};

static int visit_exidx(struct dl_phdr_info *info, size_t size, void *data)
{
	struct exidx_lookup *lookup = data;
	uintptr_t table = 0;
	int entries = 0, contains = 0;
	(void)size;
	for (int i = 0; i < info->dlpi_phnum; i++) {
		const ElfW(Phdr) *ph = &info->dlpi_phdr[i];
		uintptr_t at = info->dlpi_addr + ph->p_vaddr;
		if (ph->p_type == PT_LOAD && lookup->pc >= at && lookup->pc < at + ph->p_memsz)
			contains = 1;
		else if (ph->p_type == PT_ARM_EXIDX) {
			table = at;
			entries = ph->p_memsz / 8;
		}
	}
	if (!contains)
		return 0;
	lookup->table = table;
	lookup->entries = entries;
	return 1;
}

__attribute__((visibility("hidden")))
uintptr_t __gnu_Unwind_Find_exidx(uintptr_t pc, int *entries)
{
	struct exidx_lookup lookup = { pc, 0, 0 };
	if (!dl_iterate_phdr(visit_exidx, &lookup))
		return 0;
	*entries = lookup.entries;
	return lookup.table;
}
#endif
